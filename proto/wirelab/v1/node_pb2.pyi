from wirelab.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NODE_KIND_UNSPECIFIED: _ClassVar[NodeKind]
    NODE_KIND_HOST: _ClassVar[NodeKind]
    NODE_KIND_ROUTER: _ClassVar[NodeKind]
    NODE_KIND_LINUX: _ClassVar[NodeKind]

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_LINK: _ClassVar[EventType]
    EVENT_TYPE_TCP_STATE: _ClassVar[EventType]
    EVENT_TYPE_FAULT: _ClassVar[EventType]
    EVENT_TYPE_RIP_ROUTE: _ClassVar[EventType]
NODE_KIND_UNSPECIFIED: NodeKind
NODE_KIND_HOST: NodeKind
NODE_KIND_ROUTER: NodeKind
NODE_KIND_LINUX: NodeKind
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_LINK: EventType
EVENT_TYPE_TCP_STATE: EventType
EVENT_TYPE_FAULT: EventType
EVENT_TYPE_RIP_ROUTE: EventType

class InterfaceConfig(_message.Message):
    __slots__ = ("name", "address", "prefix_len", "mac", "mtu", "up", "egress", "ingress")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_LEN_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    EGRESS_FIELD_NUMBER: _ClassVar[int]
    INGRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    prefix_len: int
    mac: str
    mtu: int
    up: bool
    egress: _common_pb2.LinkShaping
    ingress: _common_pb2.LinkShaping
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ..., prefix_len: _Optional[int] = ..., mac: _Optional[str] = ..., mtu: _Optional[int] = ..., up: _Optional[bool] = ..., egress: _Optional[_Union[_common_pb2.LinkShaping, _Mapping]] = ..., ingress: _Optional[_Union[_common_pb2.LinkShaping, _Mapping]] = ...) -> None: ...

class RouteConfig(_message.Message):
    __slots__ = ("prefix", "gateway", "iface", "metric")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    IFACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    gateway: str
    iface: str
    metric: int
    def __init__(self, prefix: _Optional[str] = ..., gateway: _Optional[str] = ..., iface: _Optional[str] = ..., metric: _Optional[int] = ...) -> None: ...

class AppConfig(_message.Message):
    __slots__ = ("kind", "port", "seed", "rcvbuf_bytes")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    RCVBUF_BYTES_FIELD_NUMBER: _ClassVar[int]
    kind: str
    port: int
    seed: int
    rcvbuf_bytes: int
    def __init__(self, kind: _Optional[str] = ..., port: _Optional[int] = ..., seed: _Optional[int] = ..., rcvbuf_bytes: _Optional[int] = ...) -> None: ...

class ConfigureRequest(_message.Message):
    __slots__ = ("name", "kind", "interfaces", "routes", "stack", "apps", "seed", "lab", "rip")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    APPS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    LAB_FIELD_NUMBER: _ClassVar[int]
    RIP_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: NodeKind
    interfaces: _containers.RepeatedCompositeFieldContainer[InterfaceConfig]
    routes: _containers.RepeatedCompositeFieldContainer[RouteConfig]
    stack: _common_pb2.StackOptions
    apps: _containers.RepeatedCompositeFieldContainer[AppConfig]
    seed: int
    lab: str
    rip: RipOptions
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[NodeKind, str]] = ..., interfaces: _Optional[_Iterable[_Union[InterfaceConfig, _Mapping]]] = ..., routes: _Optional[_Iterable[_Union[RouteConfig, _Mapping]]] = ..., stack: _Optional[_Union[_common_pb2.StackOptions, _Mapping]] = ..., apps: _Optional[_Iterable[_Union[AppConfig, _Mapping]]] = ..., seed: _Optional[int] = ..., lab: _Optional[str] = ..., rip: _Optional[_Union[RipOptions, _Mapping]] = ...) -> None: ...

class RipOptions(_message.Message):
    __slots__ = ("update_ms", "timeout_ms", "garbage_ms", "triggered_updates", "split_horizon", "poisoned_reverse", "passive", "redistribute_connected", "redistribute_static", "originate_default", "auth_key", "auth_key_id", "silent")
    UPDATE_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    GARBAGE_MS_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_UPDATES_FIELD_NUMBER: _ClassVar[int]
    SPLIT_HORIZON_FIELD_NUMBER: _ClassVar[int]
    POISONED_REVERSE_FIELD_NUMBER: _ClassVar[int]
    PASSIVE_FIELD_NUMBER: _ClassVar[int]
    REDISTRIBUTE_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    REDISTRIBUTE_STATIC_FIELD_NUMBER: _ClassVar[int]
    ORIGINATE_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    AUTH_KEY_FIELD_NUMBER: _ClassVar[int]
    AUTH_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SILENT_FIELD_NUMBER: _ClassVar[int]
    update_ms: float
    timeout_ms: float
    garbage_ms: float
    triggered_updates: bool
    split_horizon: bool
    poisoned_reverse: bool
    passive: _containers.RepeatedScalarFieldContainer[str]
    redistribute_connected: bool
    redistribute_static: bool
    originate_default: bool
    auth_key: str
    auth_key_id: int
    silent: bool
    def __init__(self, update_ms: _Optional[float] = ..., timeout_ms: _Optional[float] = ..., garbage_ms: _Optional[float] = ..., triggered_updates: _Optional[bool] = ..., split_horizon: _Optional[bool] = ..., poisoned_reverse: _Optional[bool] = ..., passive: _Optional[_Iterable[str]] = ..., redistribute_connected: _Optional[bool] = ..., redistribute_static: _Optional[bool] = ..., originate_default: _Optional[bool] = ..., auth_key: _Optional[str] = ..., auth_key_id: _Optional[int] = ..., silent: _Optional[bool] = ...) -> None: ...

class ConfigureResponse(_message.Message):
    __slots__ = ("status", "already_configured")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ALREADY_CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    status: NodeStatus
    already_configured: bool
    def __init__(self, status: _Optional[_Union[NodeStatus, _Mapping]] = ..., already_configured: _Optional[bool] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Versions(_message.Message):
    __slots__ = ("wirelab", "python", "grpc", "protobuf")
    WIRELAB_FIELD_NUMBER: _ClassVar[int]
    PYTHON_FIELD_NUMBER: _ClassVar[int]
    GRPC_FIELD_NUMBER: _ClassVar[int]
    PROTOBUF_FIELD_NUMBER: _ClassVar[int]
    wirelab: str
    python: str
    grpc: str
    protobuf: str
    def __init__(self, wirelab: _Optional[str] = ..., python: _Optional[str] = ..., grpc: _Optional[str] = ..., protobuf: _Optional[str] = ...) -> None: ...

class InterfaceStatus(_message.Message):
    __slots__ = ("name", "device", "mac", "address", "prefix_len", "mtu", "up", "base_mtu")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_LEN_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    BASE_MTU_FIELD_NUMBER: _ClassVar[int]
    name: str
    device: str
    mac: str
    address: str
    prefix_len: int
    mtu: int
    up: bool
    base_mtu: int
    def __init__(self, name: _Optional[str] = ..., device: _Optional[str] = ..., mac: _Optional[str] = ..., address: _Optional[str] = ..., prefix_len: _Optional[int] = ..., mtu: _Optional[int] = ..., up: _Optional[bool] = ..., base_mtu: _Optional[int] = ...) -> None: ...

class NodeStatus(_message.Message):
    __slots__ = ("name", "kind", "ready", "uptime_s", "interfaces", "versions", "lab", "apps", "faults")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    LAB_FIELD_NUMBER: _ClassVar[int]
    APPS_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: NodeKind
    ready: bool
    uptime_s: float
    interfaces: _containers.RepeatedCompositeFieldContainer[InterfaceStatus]
    versions: Versions
    lab: str
    apps: _containers.RepeatedScalarFieldContainer[str]
    faults: int
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[NodeKind, str]] = ..., ready: _Optional[bool] = ..., uptime_s: _Optional[float] = ..., interfaces: _Optional[_Iterable[_Union[InterfaceStatus, _Mapping]]] = ..., versions: _Optional[_Union[Versions, _Mapping]] = ..., lab: _Optional[str] = ..., apps: _Optional[_Iterable[str]] = ..., faults: _Optional[int] = ...) -> None: ...

class SetInterfaceRequest(_message.Message):
    __slots__ = ("name", "mtu", "up", "address", "prefix_len")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_LEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    mtu: int
    up: bool
    address: str
    prefix_len: int
    def __init__(self, name: _Optional[str] = ..., mtu: _Optional[int] = ..., up: _Optional[bool] = ..., address: _Optional[str] = ..., prefix_len: _Optional[int] = ...) -> None: ...

class RouteEntry(_message.Message):
    __slots__ = ("prefix", "gateway", "iface", "kind", "metric", "age_ms", "learned_from")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    IFACE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    AGE_MS_FIELD_NUMBER: _ClassVar[int]
    LEARNED_FROM_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    gateway: str
    iface: str
    kind: str
    metric: int
    age_ms: float
    learned_from: str
    def __init__(self, prefix: _Optional[str] = ..., gateway: _Optional[str] = ..., iface: _Optional[str] = ..., kind: _Optional[str] = ..., metric: _Optional[int] = ..., age_ms: _Optional[float] = ..., learned_from: _Optional[str] = ...) -> None: ...

class ListRoutesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRoutesResponse(_message.Message):
    __slots__ = ("routes",)
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    routes: _containers.RepeatedCompositeFieldContainer[RouteEntry]
    def __init__(self, routes: _Optional[_Iterable[_Union[RouteEntry, _Mapping]]] = ...) -> None: ...

class AddRouteRequest(_message.Message):
    __slots__ = ("route",)
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    route: RouteConfig
    def __init__(self, route: _Optional[_Union[RouteConfig, _Mapping]] = ...) -> None: ...

class DeleteRouteRequest(_message.Message):
    __slots__ = ("prefix",)
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    def __init__(self, prefix: _Optional[str] = ...) -> None: ...

class ArpEntry(_message.Message):
    __slots__ = ("iface", "address", "mac", "state", "queued_packets")
    IFACE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    QUEUED_PACKETS_FIELD_NUMBER: _ClassVar[int]
    iface: str
    address: str
    mac: str
    state: str
    queued_packets: int
    def __init__(self, iface: _Optional[str] = ..., address: _Optional[str] = ..., mac: _Optional[str] = ..., state: _Optional[str] = ..., queued_packets: _Optional[int] = ...) -> None: ...

class GetArpTableRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetArpTableResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[ArpEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[ArpEntry, _Mapping]]] = ...) -> None: ...

class TcpListenerInfo(_message.Message):
    __slots__ = ("local_address", "local_port", "backlog", "syn_queue", "accept_queue")
    LOCAL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_PORT_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    SYN_QUEUE_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_QUEUE_FIELD_NUMBER: _ClassVar[int]
    local_address: str
    local_port: int
    backlog: int
    syn_queue: int
    accept_queue: int
    def __init__(self, local_address: _Optional[str] = ..., local_port: _Optional[int] = ..., backlog: _Optional[int] = ..., syn_queue: _Optional[int] = ..., accept_queue: _Optional[int] = ...) -> None: ...

class GetConnectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetConnectionsResponse(_message.Message):
    __slots__ = ("connections", "listeners")
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[_common_pb2.TcpConnectionInfo]
    listeners: _containers.RepeatedCompositeFieldContainer[TcpListenerInfo]
    def __init__(self, connections: _Optional[_Iterable[_Union[_common_pb2.TcpConnectionInfo, _Mapping]]] = ..., listeners: _Optional[_Iterable[_Union[TcpListenerInfo, _Mapping]]] = ...) -> None: ...

class GetRipRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RipInterface(_message.Message):
    __slots__ = ("name", "up", "passive")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    PASSIVE_FIELD_NUMBER: _ClassVar[int]
    name: str
    up: bool
    passive: bool
    def __init__(self, name: _Optional[str] = ..., up: _Optional[bool] = ..., passive: _Optional[bool] = ...) -> None: ...

class RipNeighbor(_message.Message):
    __slots__ = ("address", "iface", "last_heard_ms", "packets", "bad_packets", "bad_routes", "routes", "auth_sequence")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    IFACE_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARD_MS_FIELD_NUMBER: _ClassVar[int]
    PACKETS_FIELD_NUMBER: _ClassVar[int]
    BAD_PACKETS_FIELD_NUMBER: _ClassVar[int]
    BAD_ROUTES_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    AUTH_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    address: str
    iface: str
    last_heard_ms: float
    packets: int
    bad_packets: int
    bad_routes: int
    routes: int
    auth_sequence: int
    def __init__(self, address: _Optional[str] = ..., iface: _Optional[str] = ..., last_heard_ms: _Optional[float] = ..., packets: _Optional[int] = ..., bad_packets: _Optional[int] = ..., bad_routes: _Optional[int] = ..., routes: _Optional[int] = ..., auth_sequence: _Optional[int] = ...) -> None: ...

class RipRoute(_message.Message):
    __slots__ = ("prefix", "origin", "metric", "iface", "gateway", "learned_from", "tag", "age_ms", "gc_in_ms", "offers")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    IFACE_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    LEARNED_FROM_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    AGE_MS_FIELD_NUMBER: _ClassVar[int]
    GC_IN_MS_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    origin: str
    metric: int
    iface: str
    gateway: str
    learned_from: str
    tag: int
    age_ms: float
    gc_in_ms: float
    offers: int
    def __init__(self, prefix: _Optional[str] = ..., origin: _Optional[str] = ..., metric: _Optional[int] = ..., iface: _Optional[str] = ..., gateway: _Optional[str] = ..., learned_from: _Optional[str] = ..., tag: _Optional[int] = ..., age_ms: _Optional[float] = ..., gc_in_ms: _Optional[float] = ..., offers: _Optional[int] = ...) -> None: ...

class RipStatus(_message.Message):
    __slots__ = ("enabled", "update_s", "timeout_s", "garbage_s", "triggered_updates", "split_horizon", "poisoned_reverse", "silent", "authentication", "redistribute", "next_update_ms", "triggered_update_ms", "interfaces", "neighbors", "routes", "counters", "daemon")
    class CountersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    UPDATE_S_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    GARBAGE_S_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_UPDATES_FIELD_NUMBER: _ClassVar[int]
    SPLIT_HORIZON_FIELD_NUMBER: _ClassVar[int]
    POISONED_REVERSE_FIELD_NUMBER: _ClassVar[int]
    SILENT_FIELD_NUMBER: _ClassVar[int]
    AUTHENTICATION_FIELD_NUMBER: _ClassVar[int]
    REDISTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    NEXT_UPDATE_MS_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_UPDATE_MS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    NEIGHBORS_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    DAEMON_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    update_s: float
    timeout_s: float
    garbage_s: float
    triggered_updates: bool
    split_horizon: bool
    poisoned_reverse: bool
    silent: bool
    authentication: bool
    redistribute: _containers.RepeatedScalarFieldContainer[str]
    next_update_ms: float
    triggered_update_ms: float
    interfaces: _containers.RepeatedCompositeFieldContainer[RipInterface]
    neighbors: _containers.RepeatedCompositeFieldContainer[RipNeighbor]
    routes: _containers.RepeatedCompositeFieldContainer[RipRoute]
    counters: _containers.ScalarMap[str, int]
    daemon: str
    def __init__(self, enabled: _Optional[bool] = ..., update_s: _Optional[float] = ..., timeout_s: _Optional[float] = ..., garbage_s: _Optional[float] = ..., triggered_updates: _Optional[bool] = ..., split_horizon: _Optional[bool] = ..., poisoned_reverse: _Optional[bool] = ..., silent: _Optional[bool] = ..., authentication: _Optional[bool] = ..., redistribute: _Optional[_Iterable[str]] = ..., next_update_ms: _Optional[float] = ..., triggered_update_ms: _Optional[float] = ..., interfaces: _Optional[_Iterable[_Union[RipInterface, _Mapping]]] = ..., neighbors: _Optional[_Iterable[_Union[RipNeighbor, _Mapping]]] = ..., routes: _Optional[_Iterable[_Union[RipRoute, _Mapping]]] = ..., counters: _Optional[_Mapping[str, int]] = ..., daemon: _Optional[str] = ...) -> None: ...

class GetCountersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PortCounters(_message.Message):
    __slots__ = ("values",)
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.ScalarMap[str, int]
    def __init__(self, values: _Optional[_Mapping[str, int]] = ...) -> None: ...

class GetCountersResponse(_message.Message):
    __slots__ = ("stack", "io", "ports", "faults", "links")
    class StackEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class IoEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class PortsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PortCounters
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PortCounters, _Mapping]] = ...) -> None: ...
    STACK_FIELD_NUMBER: _ClassVar[int]
    IO_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    stack: _containers.ScalarMap[str, int]
    io: _containers.ScalarMap[str, int]
    ports: _containers.MessageMap[str, PortCounters]
    faults: _containers.RepeatedCompositeFieldContainer[_common_pb2.FaultInfo]
    links: _containers.RepeatedCompositeFieldContainer[LinkShapingInfo]
    def __init__(self, stack: _Optional[_Mapping[str, int]] = ..., io: _Optional[_Mapping[str, int]] = ..., ports: _Optional[_Mapping[str, PortCounters]] = ..., faults: _Optional[_Iterable[_Union[_common_pb2.FaultInfo, _Mapping]]] = ..., links: _Optional[_Iterable[_Union[LinkShapingInfo, _Mapping]]] = ...) -> None: ...

class LinkShapingInfo(_message.Message):
    __slots__ = ("iface", "direction", "shaping", "seed", "counters")
    IFACE_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    SHAPING_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    iface: str
    direction: _common_pb2.Direction
    shaping: _common_pb2.LinkShaping
    seed: int
    counters: _common_pb2.FaultCounters
    def __init__(self, iface: _Optional[str] = ..., direction: _Optional[_Union[_common_pb2.Direction, str]] = ..., shaping: _Optional[_Union[_common_pb2.LinkShaping, _Mapping]] = ..., seed: _Optional[int] = ..., counters: _Optional[_Union[_common_pb2.FaultCounters, _Mapping]] = ...) -> None: ...

class AddFaultRequest(_message.Message):
    __slots__ = ("fault", "fault_id")
    FAULT_FIELD_NUMBER: _ClassVar[int]
    FAULT_ID_FIELD_NUMBER: _ClassVar[int]
    fault: _common_pb2.FaultSpec
    fault_id: str
    def __init__(self, fault: _Optional[_Union[_common_pb2.FaultSpec, _Mapping]] = ..., fault_id: _Optional[str] = ...) -> None: ...

class ClearFaultRequest(_message.Message):
    __slots__ = ("fault_id", "all")
    FAULT_ID_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    fault_id: str
    all: bool
    def __init__(self, fault_id: _Optional[str] = ..., all: _Optional[bool] = ...) -> None: ...

class ClearFaultResponse(_message.Message):
    __slots__ = ("cleared",)
    CLEARED_FIELD_NUMBER: _ClassVar[int]
    cleared: _containers.RepeatedCompositeFieldContainer[_common_pb2.FaultInfo]
    def __init__(self, cleared: _Optional[_Iterable[_Union[_common_pb2.FaultInfo, _Mapping]]] = ...) -> None: ...

class ListFaultsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFaultsResponse(_message.Message):
    __slots__ = ("faults",)
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    faults: _containers.RepeatedCompositeFieldContainer[_common_pb2.FaultInfo]
    def __init__(self, faults: _Optional[_Iterable[_Union[_common_pb2.FaultInfo, _Mapping]]] = ...) -> None: ...

class PingRequest(_message.Message):
    __slots__ = ("destination", "count", "interval_ms", "size_bytes", "ttl", "dont_fragment", "timeout_ms", "record_route")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    DONT_FRAGMENT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    RECORD_ROUTE_FIELD_NUMBER: _ClassVar[int]
    destination: str
    count: int
    interval_ms: float
    size_bytes: int
    ttl: int
    dont_fragment: bool
    timeout_ms: float
    record_route: bool
    def __init__(self, destination: _Optional[str] = ..., count: _Optional[int] = ..., interval_ms: _Optional[float] = ..., size_bytes: _Optional[int] = ..., ttl: _Optional[int] = ..., dont_fragment: _Optional[bool] = ..., timeout_ms: _Optional[float] = ..., record_route: _Optional[bool] = ...) -> None: ...

class PingResult(_message.Message):
    __slots__ = ("seq", "replied", "source", "rtt_ms", "ttl", "size_bytes", "icmp_type", "icmp_code", "next_hop_mtu", "route", "send_failed")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REPLIED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RTT_MS_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ICMP_TYPE_FIELD_NUMBER: _ClassVar[int]
    ICMP_CODE_FIELD_NUMBER: _ClassVar[int]
    NEXT_HOP_MTU_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    SEND_FAILED_FIELD_NUMBER: _ClassVar[int]
    seq: int
    replied: bool
    source: str
    rtt_ms: float
    ttl: int
    size_bytes: int
    icmp_type: int
    icmp_code: int
    next_hop_mtu: int
    route: _containers.RepeatedScalarFieldContainer[str]
    send_failed: bool
    def __init__(self, seq: _Optional[int] = ..., replied: _Optional[bool] = ..., source: _Optional[str] = ..., rtt_ms: _Optional[float] = ..., ttl: _Optional[int] = ..., size_bytes: _Optional[int] = ..., icmp_type: _Optional[int] = ..., icmp_code: _Optional[int] = ..., next_hop_mtu: _Optional[int] = ..., route: _Optional[_Iterable[str]] = ..., send_failed: _Optional[bool] = ...) -> None: ...

class PingResponse(_message.Message):
    __slots__ = ("results", "transmitted", "received", "errors", "loss", "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    TRANSMITTED_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    RTT_MIN_MS_FIELD_NUMBER: _ClassVar[int]
    RTT_AVG_MS_FIELD_NUMBER: _ClassVar[int]
    RTT_MAX_MS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[PingResult]
    transmitted: int
    received: int
    errors: int
    loss: float
    rtt_min_ms: float
    rtt_avg_ms: float
    rtt_max_ms: float
    def __init__(self, results: _Optional[_Iterable[_Union[PingResult, _Mapping]]] = ..., transmitted: _Optional[int] = ..., received: _Optional[int] = ..., errors: _Optional[int] = ..., loss: _Optional[float] = ..., rtt_min_ms: _Optional[float] = ..., rtt_avg_ms: _Optional[float] = ..., rtt_max_ms: _Optional[float] = ...) -> None: ...

class TracerouteRequest(_message.Message):
    __slots__ = ("destination", "method", "max_hops", "probes", "wait_ms")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    MAX_HOPS_FIELD_NUMBER: _ClassVar[int]
    PROBES_FIELD_NUMBER: _ClassVar[int]
    WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    destination: str
    method: str
    max_hops: int
    probes: int
    wait_ms: float
    def __init__(self, destination: _Optional[str] = ..., method: _Optional[str] = ..., max_hops: _Optional[int] = ..., probes: _Optional[int] = ..., wait_ms: _Optional[float] = ...) -> None: ...

class TracerouteProbe(_message.Message):
    __slots__ = ("ttl", "responder", "rtt_ms", "icmp_type", "icmp_code")
    TTL_FIELD_NUMBER: _ClassVar[int]
    RESPONDER_FIELD_NUMBER: _ClassVar[int]
    RTT_MS_FIELD_NUMBER: _ClassVar[int]
    ICMP_TYPE_FIELD_NUMBER: _ClassVar[int]
    ICMP_CODE_FIELD_NUMBER: _ClassVar[int]
    ttl: int
    responder: str
    rtt_ms: float
    icmp_type: int
    icmp_code: int
    def __init__(self, ttl: _Optional[int] = ..., responder: _Optional[str] = ..., rtt_ms: _Optional[float] = ..., icmp_type: _Optional[int] = ..., icmp_code: _Optional[int] = ...) -> None: ...

class TracerouteHop(_message.Message):
    __slots__ = ("ttl", "responder", "probes")
    TTL_FIELD_NUMBER: _ClassVar[int]
    RESPONDER_FIELD_NUMBER: _ClassVar[int]
    PROBES_FIELD_NUMBER: _ClassVar[int]
    ttl: int
    responder: str
    probes: _containers.RepeatedCompositeFieldContainer[TracerouteProbe]
    def __init__(self, ttl: _Optional[int] = ..., responder: _Optional[str] = ..., probes: _Optional[_Iterable[_Union[TracerouteProbe, _Mapping]]] = ...) -> None: ...

class TracerouteResponse(_message.Message):
    __slots__ = ("hops", "reached")
    HOPS_FIELD_NUMBER: _ClassVar[int]
    REACHED_FIELD_NUMBER: _ClassVar[int]
    hops: _containers.RepeatedCompositeFieldContainer[TracerouteHop]
    reached: bool
    def __init__(self, hops: _Optional[_Iterable[_Union[TracerouteHop, _Mapping]]] = ..., reached: _Optional[bool] = ...) -> None: ...

class StartAppRequest(_message.Message):
    __slots__ = ("app",)
    APP_FIELD_NUMBER: _ClassVar[int]
    app: AppConfig
    def __init__(self, app: _Optional[_Union[AppConfig, _Mapping]] = ...) -> None: ...

class StopAppRequest(_message.Message):
    __slots__ = ("app_id",)
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    def __init__(self, app_id: _Optional[str] = ...) -> None: ...

class ListAppsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AppInfo(_message.Message):
    __slots__ = ("app_id", "kind", "port", "running", "stats")
    class StatsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    kind: str
    port: int
    running: bool
    stats: _containers.ScalarMap[str, int]
    def __init__(self, app_id: _Optional[str] = ..., kind: _Optional[str] = ..., port: _Optional[int] = ..., running: _Optional[bool] = ..., stats: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ListAppsResponse(_message.Message):
    __slots__ = ("apps",)
    APPS_FIELD_NUMBER: _ClassVar[int]
    apps: _containers.RepeatedCompositeFieldContainer[AppInfo]
    def __init__(self, apps: _Optional[_Iterable[_Union[AppInfo, _Mapping]]] = ...) -> None: ...

class TcpSample(_message.Message):
    __slots__ = ("time_ms", "cwnd", "ssthresh", "inflight_bytes", "srtt_ms", "retrans", "ca_state")
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    CWND_FIELD_NUMBER: _ClassVar[int]
    SSTHRESH_FIELD_NUMBER: _ClassVar[int]
    INFLIGHT_BYTES_FIELD_NUMBER: _ClassVar[int]
    SRTT_MS_FIELD_NUMBER: _ClassVar[int]
    RETRANS_FIELD_NUMBER: _ClassVar[int]
    CA_STATE_FIELD_NUMBER: _ClassVar[int]
    time_ms: float
    cwnd: int
    ssthresh: int
    inflight_bytes: int
    srtt_ms: float
    retrans: int
    ca_state: str
    def __init__(self, time_ms: _Optional[float] = ..., cwnd: _Optional[int] = ..., ssthresh: _Optional[int] = ..., inflight_bytes: _Optional[int] = ..., srtt_ms: _Optional[float] = ..., retrans: _Optional[int] = ..., ca_state: _Optional[str] = ...) -> None: ...

class BulkSendRequest(_message.Message):
    __slots__ = ("destination", "port", "size_bytes", "seed", "congestion_control", "sample_interval_ms", "timeout_ms", "sndbuf_bytes", "nodelay")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    CONGESTION_CONTROL_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    SNDBUF_BYTES_FIELD_NUMBER: _ClassVar[int]
    NODELAY_FIELD_NUMBER: _ClassVar[int]
    destination: str
    port: int
    size_bytes: int
    seed: int
    congestion_control: str
    sample_interval_ms: float
    timeout_ms: float
    sndbuf_bytes: int
    nodelay: bool
    def __init__(self, destination: _Optional[str] = ..., port: _Optional[int] = ..., size_bytes: _Optional[int] = ..., seed: _Optional[int] = ..., congestion_control: _Optional[str] = ..., sample_interval_ms: _Optional[float] = ..., timeout_ms: _Optional[float] = ..., sndbuf_bytes: _Optional[int] = ..., nodelay: _Optional[bool] = ...) -> None: ...

class BulkSendResponse(_message.Message):
    __slots__ = ("bytes", "seconds", "goodput_bps", "sha256", "retransmits", "bytes_retrans", "error", "samples", "final", "local_port")
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    GOODPUT_BPS_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    RETRANSMITS_FIELD_NUMBER: _ClassVar[int]
    BYTES_RETRANS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    LOCAL_PORT_FIELD_NUMBER: _ClassVar[int]
    bytes: int
    seconds: float
    goodput_bps: float
    sha256: str
    retransmits: int
    bytes_retrans: int
    error: str
    samples: _containers.RepeatedCompositeFieldContainer[TcpSample]
    final: _common_pb2.TcpConnectionInfo
    local_port: int
    def __init__(self, bytes: _Optional[int] = ..., seconds: _Optional[float] = ..., goodput_bps: _Optional[float] = ..., sha256: _Optional[str] = ..., retransmits: _Optional[int] = ..., bytes_retrans: _Optional[int] = ..., error: _Optional[str] = ..., samples: _Optional[_Iterable[_Union[TcpSample, _Mapping]]] = ..., final: _Optional[_Union[_common_pb2.TcpConnectionInfo, _Mapping]] = ..., local_port: _Optional[int] = ...) -> None: ...

class GetSinkResultsRequest(_message.Message):
    __slots__ = ("app_id",)
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    def __init__(self, app_id: _Optional[str] = ...) -> None: ...

class SinkResult(_message.Message):
    __slots__ = ("remote_address", "remote_port", "bytes", "sha256", "seconds", "goodput_bps", "error", "finished")
    REMOTE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REMOTE_PORT_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    GOODPUT_BPS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    remote_address: str
    remote_port: int
    bytes: int
    sha256: str
    seconds: float
    goodput_bps: float
    error: str
    finished: bool
    def __init__(self, remote_address: _Optional[str] = ..., remote_port: _Optional[int] = ..., bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., seconds: _Optional[float] = ..., goodput_bps: _Optional[float] = ..., error: _Optional[str] = ..., finished: _Optional[bool] = ...) -> None: ...

class GetSinkResultsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SinkResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SinkResult, _Mapping]]] = ...) -> None: ...

class HttpGetRequest(_message.Message):
    __slots__ = ("url", "timeout_ms")
    URL_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    url: str
    timeout_ms: float
    def __init__(self, url: _Optional[str] = ..., timeout_ms: _Optional[float] = ...) -> None: ...

class HttpGetResponse(_message.Message):
    __slots__ = ("status", "bytes", "sha256", "seconds", "error", "headers")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    status: int
    bytes: int
    sha256: str
    seconds: float
    error: str
    headers: _containers.ScalarMap[str, str]
    def __init__(self, status: _Optional[int] = ..., bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., seconds: _Optional[float] = ..., error: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ...) -> None: ...

class UdpSendRequest(_message.Message):
    __slots__ = ("destination", "port", "count", "size_bytes", "interval_ms", "wait_ms")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    destination: str
    port: int
    count: int
    size_bytes: int
    interval_ms: float
    wait_ms: float
    def __init__(self, destination: _Optional[str] = ..., port: _Optional[int] = ..., count: _Optional[int] = ..., size_bytes: _Optional[int] = ..., interval_ms: _Optional[float] = ..., wait_ms: _Optional[float] = ...) -> None: ...

class UdpSendResponse(_message.Message):
    __slots__ = ("sent", "replies", "lost", "duplicates", "send_failures", "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms")
    SENT_FIELD_NUMBER: _ClassVar[int]
    REPLIES_FIELD_NUMBER: _ClassVar[int]
    LOST_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    SEND_FAILURES_FIELD_NUMBER: _ClassVar[int]
    RTT_MIN_MS_FIELD_NUMBER: _ClassVar[int]
    RTT_AVG_MS_FIELD_NUMBER: _ClassVar[int]
    RTT_MAX_MS_FIELD_NUMBER: _ClassVar[int]
    sent: int
    replies: int
    lost: int
    duplicates: int
    send_failures: int
    rtt_min_ms: float
    rtt_avg_ms: float
    rtt_max_ms: float
    def __init__(self, sent: _Optional[int] = ..., replies: _Optional[int] = ..., lost: _Optional[int] = ..., duplicates: _Optional[int] = ..., send_failures: _Optional[int] = ..., rtt_min_ms: _Optional[float] = ..., rtt_avg_ms: _Optional[float] = ..., rtt_max_ms: _Optional[float] = ...) -> None: ...

class CaptureRequest(_message.Message):
    __slots__ = ("iface", "direction", "max_packets", "duration_ms", "snaplen_bytes")
    IFACE_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    MAX_PACKETS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    SNAPLEN_BYTES_FIELD_NUMBER: _ClassVar[int]
    iface: str
    direction: _common_pb2.Direction
    max_packets: int
    duration_ms: float
    snaplen_bytes: int
    def __init__(self, iface: _Optional[str] = ..., direction: _Optional[_Union[_common_pb2.Direction, str]] = ..., max_packets: _Optional[int] = ..., duration_ms: _Optional[float] = ..., snaplen_bytes: _Optional[int] = ...) -> None: ...

class CaptureChunk(_message.Message):
    __slots__ = ("data", "packets", "dropped")
    DATA_FIELD_NUMBER: _ClassVar[int]
    PACKETS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    packets: int
    dropped: int
    def __init__(self, data: _Optional[bytes] = ..., packets: _Optional[int] = ..., dropped: _Optional[int] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("types",)
    TYPES_FIELD_NUMBER: _ClassVar[int]
    types: _containers.RepeatedScalarFieldContainer[EventType]
    def __init__(self, types: _Optional[_Iterable[_Union[EventType, str]]] = ...) -> None: ...

class LinkEvent(_message.Message):
    __slots__ = ("iface", "up", "mtu", "change")
    IFACE_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    iface: str
    up: bool
    mtu: int
    change: str
    def __init__(self, iface: _Optional[str] = ..., up: _Optional[bool] = ..., mtu: _Optional[int] = ..., change: _Optional[str] = ...) -> None: ...

class TcpStateEvent(_message.Message):
    __slots__ = ("local_address", "local_port", "remote_address", "remote_port", "old_state", "new_state")
    LOCAL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_PORT_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REMOTE_PORT_FIELD_NUMBER: _ClassVar[int]
    OLD_STATE_FIELD_NUMBER: _ClassVar[int]
    NEW_STATE_FIELD_NUMBER: _ClassVar[int]
    local_address: str
    local_port: int
    remote_address: str
    remote_port: int
    old_state: str
    new_state: str
    def __init__(self, local_address: _Optional[str] = ..., local_port: _Optional[int] = ..., remote_address: _Optional[str] = ..., remote_port: _Optional[int] = ..., old_state: _Optional[str] = ..., new_state: _Optional[str] = ...) -> None: ...

class RipRouteEvent(_message.Message):
    __slots__ = ("prefix", "change", "metric", "old_metric", "gateway", "iface", "learned_from")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    OLD_METRIC_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    IFACE_FIELD_NUMBER: _ClassVar[int]
    LEARNED_FROM_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    change: str
    metric: int
    old_metric: int
    gateway: str
    iface: str
    learned_from: str
    def __init__(self, prefix: _Optional[str] = ..., change: _Optional[str] = ..., metric: _Optional[int] = ..., old_metric: _Optional[int] = ..., gateway: _Optional[str] = ..., iface: _Optional[str] = ..., learned_from: _Optional[str] = ...) -> None: ...

class FaultEvent(_message.Message):
    __slots__ = ("change", "fault")
    class Change(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CHANGE_UNSPECIFIED: _ClassVar[FaultEvent.Change]
        CHANGE_ADDED: _ClassVar[FaultEvent.Change]
        CHANGE_CLEARED: _ClassVar[FaultEvent.Change]
        CHANGE_EXPIRED: _ClassVar[FaultEvent.Change]
    CHANGE_UNSPECIFIED: FaultEvent.Change
    CHANGE_ADDED: FaultEvent.Change
    CHANGE_CLEARED: FaultEvent.Change
    CHANGE_EXPIRED: FaultEvent.Change
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    change: FaultEvent.Change
    fault: _common_pb2.FaultInfo
    def __init__(self, change: _Optional[_Union[FaultEvent.Change, str]] = ..., fault: _Optional[_Union[_common_pb2.FaultInfo, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("unix_time_s", "node", "subscribed", "link", "tcp", "fault", "rip_route", "dropped")
    UNIX_TIME_S_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBED_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    TCP_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    RIP_ROUTE_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    unix_time_s: float
    node: str
    subscribed: bool
    link: LinkEvent
    tcp: TcpStateEvent
    fault: FaultEvent
    rip_route: RipRouteEvent
    dropped: int
    def __init__(self, unix_time_s: _Optional[float] = ..., node: _Optional[str] = ..., subscribed: _Optional[bool] = ..., link: _Optional[_Union[LinkEvent, _Mapping]] = ..., tcp: _Optional[_Union[TcpStateEvent, _Mapping]] = ..., fault: _Optional[_Union[FaultEvent, _Mapping]] = ..., rip_route: _Optional[_Union[RipRouteEvent, _Mapping]] = ..., dropped: _Optional[int] = ...) -> None: ...
