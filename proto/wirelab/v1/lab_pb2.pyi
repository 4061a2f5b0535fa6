from wirelab.v1 import common_pb2 as _common_pb2
from wirelab.v1 import node_pb2 as _node_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeActionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NODE_ACTION_UNSPECIFIED: _ClassVar[NodeActionKind]
    NODE_ACTION_KILL: _ClassVar[NodeActionKind]
    NODE_ACTION_STOP: _ClassVar[NodeActionKind]
    NODE_ACTION_START: _ClassVar[NodeActionKind]
    NODE_ACTION_RESTART: _ClassVar[NodeActionKind]
    NODE_ACTION_PAUSE: _ClassVar[NodeActionKind]
    NODE_ACTION_UNPAUSE: _ClassVar[NodeActionKind]
NODE_ACTION_UNSPECIFIED: NodeActionKind
NODE_ACTION_KILL: NodeActionKind
NODE_ACTION_STOP: NodeActionKind
NODE_ACTION_START: NodeActionKind
NODE_ACTION_RESTART: NodeActionKind
NODE_ACTION_PAUSE: NodeActionKind
NODE_ACTION_UNPAUSE: NodeActionKind

class DeployRequest(_message.Message):
    __slots__ = ("topology_yaml", "name", "backend", "replace", "seed", "skip_timeline", "source_name", "base_dir")
    TOPOLOGY_YAML_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SKIP_TIMELINE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_DIR_FIELD_NUMBER: _ClassVar[int]
    topology_yaml: str
    name: str
    backend: str
    replace: bool
    seed: int
    skip_timeline: bool
    source_name: str
    base_dir: str
    def __init__(self, topology_yaml: _Optional[str] = ..., name: _Optional[str] = ..., backend: _Optional[str] = ..., replace: _Optional[bool] = ..., seed: _Optional[int] = ..., skip_timeline: _Optional[bool] = ..., source_name: _Optional[str] = ..., base_dir: _Optional[str] = ...) -> None: ...

class DeployProgress(_message.Message):
    __slots__ = ("step", "node", "done", "total", "message")
    STEP_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    step: str
    node: str
    done: int
    total: int
    message: str
    def __init__(self, step: _Optional[str] = ..., node: _Optional[str] = ..., done: _Optional[int] = ..., total: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class DeployEvent(_message.Message):
    __slots__ = ("progress", "lab")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    LAB_FIELD_NUMBER: _ClassVar[int]
    progress: DeployProgress
    lab: LabInfo
    def __init__(self, progress: _Optional[_Union[DeployProgress, _Mapping]] = ..., lab: _Optional[_Union[LabInfo, _Mapping]] = ...) -> None: ...

class DestroyRequest(_message.Message):
    __slots__ = ("lab", "all")
    LAB_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    lab: str
    all: bool
    def __init__(self, lab: _Optional[str] = ..., all: _Optional[bool] = ...) -> None: ...

class DestroyResponse(_message.Message):
    __slots__ = ("destroyed",)
    DESTROYED_FIELD_NUMBER: _ClassVar[int]
    destroyed: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, destroyed: _Optional[_Iterable[str]] = ...) -> None: ...

class ListLabsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LabSummary(_message.Message):
    __slots__ = ("name", "backend", "nodes", "running", "faults", "age_s")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    AGE_S_FIELD_NUMBER: _ClassVar[int]
    name: str
    backend: str
    nodes: int
    running: int
    faults: int
    age_s: float
    def __init__(self, name: _Optional[str] = ..., backend: _Optional[str] = ..., nodes: _Optional[int] = ..., running: _Optional[int] = ..., faults: _Optional[int] = ..., age_s: _Optional[float] = ...) -> None: ...

class ListLabsResponse(_message.Message):
    __slots__ = ("labs",)
    LABS_FIELD_NUMBER: _ClassVar[int]
    labs: _containers.RepeatedCompositeFieldContainer[LabSummary]
    def __init__(self, labs: _Optional[_Iterable[_Union[LabSummary, _Mapping]]] = ...) -> None: ...

class GetLabRequest(_message.Message):
    __slots__ = ("lab",)
    LAB_FIELD_NUMBER: _ClassVar[int]
    lab: str
    def __init__(self, lab: _Optional[str] = ...) -> None: ...

class LabInterface(_message.Message):
    __slots__ = ("name", "address", "prefix_len", "mac", "mtu", "link", "up", "planned_mtu", "egress", "ingress")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_LEN_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    PLANNED_MTU_FIELD_NUMBER: _ClassVar[int]
    EGRESS_FIELD_NUMBER: _ClassVar[int]
    INGRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    prefix_len: int
    mac: str
    mtu: int
    link: str
    up: bool
    planned_mtu: int
    egress: _common_pb2.LinkShaping
    ingress: _common_pb2.LinkShaping
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ..., prefix_len: _Optional[int] = ..., mac: _Optional[str] = ..., mtu: _Optional[int] = ..., link: _Optional[str] = ..., up: _Optional[bool] = ..., planned_mtu: _Optional[int] = ..., egress: _Optional[_Union[_common_pb2.LinkShaping, _Mapping]] = ..., ingress: _Optional[_Union[_common_pb2.LinkShaping, _Mapping]] = ...) -> None: ...

class LabNode(_message.Message):
    __slots__ = ("name", "kind", "state", "agent", "interfaces", "apps", "container")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    APPS_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    state: str
    agent: str
    interfaces: _containers.RepeatedCompositeFieldContainer[LabInterface]
    apps: _containers.RepeatedScalarFieldContainer[str]
    container: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., state: _Optional[str] = ..., agent: _Optional[str] = ..., interfaces: _Optional[_Iterable[_Union[LabInterface, _Mapping]]] = ..., apps: _Optional[_Iterable[str]] = ..., container: _Optional[str] = ...) -> None: ...

class LabLink(_message.Message):
    __slots__ = ("name", "type", "subnet", "mtu", "members", "directions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBNET_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    DIRECTIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    subnet: str
    mtu: int
    members: _containers.RepeatedScalarFieldContainer[str]
    directions: _containers.RepeatedCompositeFieldContainer[LinkDirection]
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., subnet: _Optional[str] = ..., mtu: _Optional[int] = ..., members: _Optional[_Iterable[str]] = ..., directions: _Optional[_Iterable[_Union[LinkDirection, _Mapping]]] = ...) -> None: ...

class LinkDirection(_message.Message):
    __slots__ = ("sender", "shaping", "applied_at")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    SHAPING_FIELD_NUMBER: _ClassVar[int]
    APPLIED_AT_FIELD_NUMBER: _ClassVar[int]
    sender: str
    shaping: _common_pb2.LinkShaping
    applied_at: str
    def __init__(self, sender: _Optional[str] = ..., shaping: _Optional[_Union[_common_pb2.LinkShaping, _Mapping]] = ..., applied_at: _Optional[str] = ...) -> None: ...

class LabInfo(_message.Message):
    __slots__ = ("name", "backend", "state", "topology_hash", "nodes", "links", "age_s", "faults", "source", "engine")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TOPOLOGY_HASH_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    AGE_S_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    name: str
    backend: str
    state: str
    topology_hash: str
    nodes: _containers.RepeatedCompositeFieldContainer[LabNode]
    links: _containers.RepeatedCompositeFieldContainer[LabLink]
    age_s: float
    faults: int
    source: str
    engine: str
    def __init__(self, name: _Optional[str] = ..., backend: _Optional[str] = ..., state: _Optional[str] = ..., topology_hash: _Optional[str] = ..., nodes: _Optional[_Iterable[_Union[LabNode, _Mapping]]] = ..., links: _Optional[_Iterable[_Union[LabLink, _Mapping]]] = ..., age_s: _Optional[float] = ..., faults: _Optional[int] = ..., source: _Optional[str] = ..., engine: _Optional[str] = ...) -> None: ...

class NodeGroup(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, nodes: _Optional[_Iterable[str]] = ...) -> None: ...

class PartitionTarget(_message.Message):
    __slots__ = ("groups", "one_way")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    ONE_WAY_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[NodeGroup]
    one_way: bool
    def __init__(self, groups: _Optional[_Iterable[_Union[NodeGroup, _Mapping]]] = ..., one_way: _Optional[bool] = ...) -> None: ...

class FaultTarget(_message.Message):
    __slots__ = ("endpoint", "link", "node", "partition")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    endpoint: str
    link: str
    node: str
    partition: PartitionTarget
    def __init__(self, endpoint: _Optional[str] = ..., link: _Optional[str] = ..., node: _Optional[str] = ..., partition: _Optional[_Union[PartitionTarget, _Mapping]] = ...) -> None: ...

class LabFaultSpec(_message.Message):
    __slots__ = ("target", "effects", "fault_id")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    EFFECTS_FIELD_NUMBER: _ClassVar[int]
    FAULT_ID_FIELD_NUMBER: _ClassVar[int]
    target: FaultTarget
    effects: _common_pb2.FaultSpec
    fault_id: str
    def __init__(self, target: _Optional[_Union[FaultTarget, _Mapping]] = ..., effects: _Optional[_Union[_common_pb2.FaultSpec, _Mapping]] = ..., fault_id: _Optional[str] = ...) -> None: ...

class AddLabFaultRequest(_message.Message):
    __slots__ = ("lab", "fault")
    LAB_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    lab: str
    fault: LabFaultSpec
    def __init__(self, lab: _Optional[str] = ..., fault: _Optional[_Union[LabFaultSpec, _Mapping]] = ...) -> None: ...

class LabFault(_message.Message):
    __slots__ = ("fault_id", "lab", "target", "effects", "state", "origin", "seed", "age_ms", "remaining_ms", "counters", "parts", "description")
    FAULT_ID_FIELD_NUMBER: _ClassVar[int]
    LAB_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    EFFECTS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    AGE_MS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_MS_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    fault_id: str
    lab: str
    target: FaultTarget
    effects: _common_pb2.FaultSpec
    state: str
    origin: str
    seed: int
    age_ms: float
    remaining_ms: float
    counters: _common_pb2.FaultCounters
    parts: _containers.RepeatedCompositeFieldContainer[_common_pb2.FaultInfo]
    description: str
    def __init__(self, fault_id: _Optional[str] = ..., lab: _Optional[str] = ..., target: _Optional[_Union[FaultTarget, _Mapping]] = ..., effects: _Optional[_Union[_common_pb2.FaultSpec, _Mapping]] = ..., state: _Optional[str] = ..., origin: _Optional[str] = ..., seed: _Optional[int] = ..., age_ms: _Optional[float] = ..., remaining_ms: _Optional[float] = ..., counters: _Optional[_Union[_common_pb2.FaultCounters, _Mapping]] = ..., parts: _Optional[_Iterable[_Union[_common_pb2.FaultInfo, _Mapping]]] = ..., description: _Optional[str] = ...) -> None: ...

class ClearLabFaultRequest(_message.Message):
    __slots__ = ("lab", "fault_id", "all")
    LAB_FIELD_NUMBER: _ClassVar[int]
    FAULT_ID_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    lab: str
    fault_id: str
    all: bool
    def __init__(self, lab: _Optional[str] = ..., fault_id: _Optional[str] = ..., all: _Optional[bool] = ...) -> None: ...

class ClearLabFaultResponse(_message.Message):
    __slots__ = ("cleared",)
    CLEARED_FIELD_NUMBER: _ClassVar[int]
    cleared: _containers.RepeatedCompositeFieldContainer[LabFault]
    def __init__(self, cleared: _Optional[_Iterable[_Union[LabFault, _Mapping]]] = ...) -> None: ...

class ListLabFaultsRequest(_message.Message):
    __slots__ = ("lab", "active_only")
    LAB_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    lab: str
    active_only: bool
    def __init__(self, lab: _Optional[str] = ..., active_only: _Optional[bool] = ...) -> None: ...

class ListLabFaultsResponse(_message.Message):
    __slots__ = ("faults",)
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    faults: _containers.RepeatedCompositeFieldContainer[LabFault]
    def __init__(self, faults: _Optional[_Iterable[_Union[LabFault, _Mapping]]] = ...) -> None: ...

class NodeActionRequest(_message.Message):
    __slots__ = ("lab", "node", "action", "duration_ms")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    action: NodeActionKind
    duration_ms: float
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., action: _Optional[_Union[NodeActionKind, str]] = ..., duration_ms: _Optional[float] = ...) -> None: ...

class NodeActionResponse(_message.Message):
    __slots__ = ("node", "state", "faults_reapplied")
    NODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FAULTS_REAPPLIED_FIELD_NUMBER: _ClassVar[int]
    node: str
    state: str
    faults_reapplied: int
    def __init__(self, node: _Optional[str] = ..., state: _Optional[str] = ..., faults_reapplied: _Optional[int] = ...) -> None: ...

class PartitionRequest(_message.Message):
    __slots__ = ("lab", "groups", "one_way", "duration_ms", "fault_id")
    LAB_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    ONE_WAY_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    FAULT_ID_FIELD_NUMBER: _ClassVar[int]
    lab: str
    groups: _containers.RepeatedCompositeFieldContainer[NodeGroup]
    one_way: bool
    duration_ms: float
    fault_id: str
    def __init__(self, lab: _Optional[str] = ..., groups: _Optional[_Iterable[_Union[NodeGroup, _Mapping]]] = ..., one_way: _Optional[bool] = ..., duration_ms: _Optional[float] = ..., fault_id: _Optional[str] = ...) -> None: ...

class LabPingRequest(_message.Message):
    __slots__ = ("lab", "node", "ping")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    ping: _node_pb2.PingRequest
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., ping: _Optional[_Union[_node_pb2.PingRequest, _Mapping]] = ...) -> None: ...

class LabTracerouteRequest(_message.Message):
    __slots__ = ("lab", "node", "traceroute")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    TRACEROUTE_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    traceroute: _node_pb2.TracerouteRequest
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., traceroute: _Optional[_Union[_node_pb2.TracerouteRequest, _Mapping]] = ...) -> None: ...

class TransferRequest(_message.Message):
    __slots__ = ("lab", "source", "destination", "size_bytes", "congestion_control", "port", "sample_interval_ms", "timeout_ms", "seed")
    LAB_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CONGESTION_CONTROL_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    lab: str
    source: str
    destination: str
    size_bytes: int
    congestion_control: str
    port: int
    sample_interval_ms: float
    timeout_ms: float
    seed: int
    def __init__(self, lab: _Optional[str] = ..., source: _Optional[str] = ..., destination: _Optional[str] = ..., size_bytes: _Optional[int] = ..., congestion_control: _Optional[str] = ..., port: _Optional[int] = ..., sample_interval_ms: _Optional[float] = ..., timeout_ms: _Optional[float] = ..., seed: _Optional[int] = ...) -> None: ...

class TransferResponse(_message.Message):
    __slots__ = ("bytes", "bytes_received", "seconds", "goodput_bps", "sender_sha256", "receiver_sha256", "sha256_match", "retransmits", "bytes_retrans", "error", "samples", "final", "source_address", "destination_address", "port", "size_bytes", "timeout_s", "loads", "cpu_bound_nodes")
    BYTES_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    GOODPUT_BPS_FIELD_NUMBER: _ClassVar[int]
    SENDER_SHA256_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_SHA256_FIELD_NUMBER: _ClassVar[int]
    SHA256_MATCH_FIELD_NUMBER: _ClassVar[int]
    RETRANSMITS_FIELD_NUMBER: _ClassVar[int]
    BYTES_RETRANS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    LOADS_FIELD_NUMBER: _ClassVar[int]
    CPU_BOUND_NODES_FIELD_NUMBER: _ClassVar[int]
    bytes: int
    bytes_received: int
    seconds: float
    goodput_bps: float
    sender_sha256: str
    receiver_sha256: str
    sha256_match: bool
    retransmits: int
    bytes_retrans: int
    error: str
    samples: _containers.RepeatedCompositeFieldContainer[_node_pb2.TcpSample]
    final: _common_pb2.TcpConnectionInfo
    source_address: str
    destination_address: str
    port: int
    size_bytes: int
    timeout_s: float
    loads: _containers.RepeatedCompositeFieldContainer[NodeLoad]
    cpu_bound_nodes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, bytes: _Optional[int] = ..., bytes_received: _Optional[int] = ..., seconds: _Optional[float] = ..., goodput_bps: _Optional[float] = ..., sender_sha256: _Optional[str] = ..., receiver_sha256: _Optional[str] = ..., sha256_match: _Optional[bool] = ..., retransmits: _Optional[int] = ..., bytes_retrans: _Optional[int] = ..., error: _Optional[str] = ..., samples: _Optional[_Iterable[_Union[_node_pb2.TcpSample, _Mapping]]] = ..., final: _Optional[_Union[_common_pb2.TcpConnectionInfo, _Mapping]] = ..., source_address: _Optional[str] = ..., destination_address: _Optional[str] = ..., port: _Optional[int] = ..., size_bytes: _Optional[int] = ..., timeout_s: _Optional[float] = ..., loads: _Optional[_Iterable[_Union[NodeLoad, _Mapping]]] = ..., cpu_bound_nodes: _Optional[_Iterable[str]] = ...) -> None: ...

class NodeLoad(_message.Message):
    __slots__ = ("node", "busy_fraction", "late_fraction", "wakeups", "wall_s", "saturated")
    NODE_FIELD_NUMBER: _ClassVar[int]
    BUSY_FRACTION_FIELD_NUMBER: _ClassVar[int]
    LATE_FRACTION_FIELD_NUMBER: _ClassVar[int]
    WAKEUPS_FIELD_NUMBER: _ClassVar[int]
    WALL_S_FIELD_NUMBER: _ClassVar[int]
    SATURATED_FIELD_NUMBER: _ClassVar[int]
    node: str
    busy_fraction: float
    late_fraction: float
    wakeups: int
    wall_s: float
    saturated: bool
    def __init__(self, node: _Optional[str] = ..., busy_fraction: _Optional[float] = ..., late_fraction: _Optional[float] = ..., wakeups: _Optional[int] = ..., wall_s: _Optional[float] = ..., saturated: _Optional[bool] = ...) -> None: ...

class LabHttpGetRequest(_message.Message):
    __slots__ = ("lab", "node", "http")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    HTTP_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    http: _node_pb2.HttpGetRequest
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., http: _Optional[_Union[_node_pb2.HttpGetRequest, _Mapping]] = ...) -> None: ...

class NodeRequest(_message.Message):
    __slots__ = ("lab", "node")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ...) -> None: ...

class LabSetInterfaceRequest(_message.Message):
    __slots__ = ("lab", "node", "iface", "mtu", "up", "address")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    IFACE_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    iface: str
    mtu: int
    up: bool
    address: str
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., iface: _Optional[str] = ..., mtu: _Optional[int] = ..., up: _Optional[bool] = ..., address: _Optional[str] = ...) -> None: ...

class LabAddRouteRequest(_message.Message):
    __slots__ = ("lab", "node", "route")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    route: _node_pb2.RouteConfig
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., route: _Optional[_Union[_node_pb2.RouteConfig, _Mapping]] = ...) -> None: ...

class LabDeleteRouteRequest(_message.Message):
    __slots__ = ("lab", "node", "prefix")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    prefix: str
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., prefix: _Optional[str] = ...) -> None: ...

class LabStartAppRequest(_message.Message):
    __slots__ = ("lab", "node", "app")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    APP_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    app: _node_pb2.AppConfig
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., app: _Optional[_Union[_node_pb2.AppConfig, _Mapping]] = ...) -> None: ...

class LabStopAppRequest(_message.Message):
    __slots__ = ("lab", "node", "app_id")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    app_id: str
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., app_id: _Optional[str] = ...) -> None: ...

class LabListAppsRequest(_message.Message):
    __slots__ = ("lab", "node")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ...) -> None: ...

class NodeApps(_message.Message):
    __slots__ = ("node", "apps")
    NODE_FIELD_NUMBER: _ClassVar[int]
    APPS_FIELD_NUMBER: _ClassVar[int]
    node: str
    apps: _containers.RepeatedCompositeFieldContainer[_node_pb2.AppInfo]
    def __init__(self, node: _Optional[str] = ..., apps: _Optional[_Iterable[_Union[_node_pb2.AppInfo, _Mapping]]] = ...) -> None: ...

class LabListAppsResponse(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeApps]
    def __init__(self, nodes: _Optional[_Iterable[_Union[NodeApps, _Mapping]]] = ...) -> None: ...

class ExecRequest(_message.Message):
    __slots__ = ("lab", "node", "argv", "timeout_ms")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    ARGV_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    argv: _containers.RepeatedScalarFieldContainer[str]
    timeout_ms: float
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., argv: _Optional[_Iterable[str]] = ..., timeout_ms: _Optional[float] = ...) -> None: ...

class ExecResponse(_message.Message):
    __slots__ = ("exit_code", "output")
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    output: str
    def __init__(self, exit_code: _Optional[int] = ..., output: _Optional[str] = ...) -> None: ...

class LabCaptureRequest(_message.Message):
    __slots__ = ("lab", "node", "capture")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_FIELD_NUMBER: _ClassVar[int]
    lab: str
    node: str
    capture: _node_pb2.CaptureRequest
    def __init__(self, lab: _Optional[str] = ..., node: _Optional[str] = ..., capture: _Optional[_Union[_node_pb2.CaptureRequest, _Mapping]] = ...) -> None: ...

class LabWatchEventsRequest(_message.Message):
    __slots__ = ("lab", "nodes", "types")
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    lab: str
    nodes: _containers.RepeatedScalarFieldContainer[str]
    types: _containers.RepeatedScalarFieldContainer[_node_pb2.EventType]
    def __init__(self, lab: _Optional[str] = ..., nodes: _Optional[_Iterable[str]] = ..., types: _Optional[_Iterable[_Union[_node_pb2.EventType, str]]] = ...) -> None: ...

class LabFaultEvent(_message.Message):
    __slots__ = ("change", "fault")
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    change: str
    fault: LabFault
    def __init__(self, change: _Optional[str] = ..., fault: _Optional[_Union[LabFault, _Mapping]] = ...) -> None: ...

class NodeStateEvent(_message.Message):
    __slots__ = ("action", "state")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    action: str
    state: str
    def __init__(self, action: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class LabEvent(_message.Message):
    __slots__ = ("unix_time_s", "lab", "node", "subscribed", "node_event", "fault", "node_state", "destroyed")
    UNIX_TIME_S_FIELD_NUMBER: _ClassVar[int]
    LAB_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBED_FIELD_NUMBER: _ClassVar[int]
    NODE_EVENT_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    NODE_STATE_FIELD_NUMBER: _ClassVar[int]
    DESTROYED_FIELD_NUMBER: _ClassVar[int]
    unix_time_s: float
    lab: str
    node: str
    subscribed: bool
    node_event: _node_pb2.Event
    fault: LabFaultEvent
    node_state: NodeStateEvent
    destroyed: bool
    def __init__(self, unix_time_s: _Optional[float] = ..., lab: _Optional[str] = ..., node: _Optional[str] = ..., subscribed: _Optional[bool] = ..., node_event: _Optional[_Union[_node_pb2.Event, _Mapping]] = ..., fault: _Optional[_Union[LabFaultEvent, _Mapping]] = ..., node_state: _Optional[_Union[NodeStateEvent, _Mapping]] = ..., destroyed: _Optional[bool] = ...) -> None: ...

class WaitRequest(_message.Message):
    __slots__ = ("lab", "duration_ms")
    LAB_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    lab: str
    duration_ms: float
    def __init__(self, lab: _Optional[str] = ..., duration_ms: _Optional[float] = ...) -> None: ...

class WaitResponse(_message.Message):
    __slots__ = ("lab_time_s", "virtual")
    LAB_TIME_S_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_FIELD_NUMBER: _ClassVar[int]
    lab_time_s: float
    virtual: bool
    def __init__(self, lab_time_s: _Optional[float] = ..., virtual: _Optional[bool] = ...) -> None: ...

class GetJournalRequest(_message.Message):
    __slots__ = ("lab",)
    LAB_FIELD_NUMBER: _ClassVar[int]
    lab: str
    def __init__(self, lab: _Optional[str] = ...) -> None: ...

class JournalLine(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...
