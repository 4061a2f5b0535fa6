from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_EGRESS: _ClassVar[Direction]
    DIRECTION_INGRESS: _ClassVar[Direction]
    DIRECTION_BOTH: _ClassVar[Direction]

class DelayDistribution(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELAY_DISTRIBUTION_UNSPECIFIED: _ClassVar[DelayDistribution]
    DELAY_DISTRIBUTION_UNIFORM: _ClassVar[DelayDistribution]
    DELAY_DISTRIBUTION_NORMAL: _ClassVar[DelayDistribution]
DIRECTION_UNSPECIFIED: Direction
DIRECTION_EGRESS: Direction
DIRECTION_INGRESS: Direction
DIRECTION_BOTH: Direction
DELAY_DISTRIBUTION_UNSPECIFIED: DelayDistribution
DELAY_DISTRIBUTION_UNIFORM: DelayDistribution
DELAY_DISTRIBUTION_NORMAL: DelayDistribution

class Match(_message.Message):
    __slots__ = ("protocol", "src", "dst", "src_port", "dst_port")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    SRC_FIELD_NUMBER: _ClassVar[int]
    DST_FIELD_NUMBER: _ClassVar[int]
    SRC_PORT_FIELD_NUMBER: _ClassVar[int]
    DST_PORT_FIELD_NUMBER: _ClassVar[int]
    protocol: str
    src: str
    dst: str
    src_port: int
    dst_port: int
    def __init__(self, protocol: _Optional[str] = ..., src: _Optional[str] = ..., dst: _Optional[str] = ..., src_port: _Optional[int] = ..., dst_port: _Optional[int] = ...) -> None: ...

class GilbertElliott(_message.Message):
    __slots__ = ("p", "r", "loss_bad", "loss_good")
    P_FIELD_NUMBER: _ClassVar[int]
    R_FIELD_NUMBER: _ClassVar[int]
    LOSS_BAD_FIELD_NUMBER: _ClassVar[int]
    LOSS_GOOD_FIELD_NUMBER: _ClassVar[int]
    p: float
    r: float
    loss_bad: float
    loss_good: float
    def __init__(self, p: _Optional[float] = ..., r: _Optional[float] = ..., loss_bad: _Optional[float] = ..., loss_good: _Optional[float] = ...) -> None: ...

class RateLimit(_message.Message):
    __slots__ = ("rate_bps", "burst_bytes", "queue_limit_bytes", "queue_limit_packets", "codel")
    RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    BURST_BYTES_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LIMIT_PACKETS_FIELD_NUMBER: _ClassVar[int]
    CODEL_FIELD_NUMBER: _ClassVar[int]
    rate_bps: float
    burst_bytes: int
    queue_limit_bytes: int
    queue_limit_packets: int
    codel: Codel
    def __init__(self, rate_bps: _Optional[float] = ..., burst_bytes: _Optional[int] = ..., queue_limit_bytes: _Optional[int] = ..., queue_limit_packets: _Optional[int] = ..., codel: _Optional[_Union[Codel, _Mapping]] = ...) -> None: ...

class Codel(_message.Message):
    __slots__ = ("target_ms", "interval_ms")
    TARGET_MS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    target_ms: float
    interval_ms: float
    def __init__(self, target_ms: _Optional[float] = ..., interval_ms: _Optional[float] = ...) -> None: ...

class FaultSpec(_message.Message):
    __slots__ = ("iface", "direction", "match", "loss", "gilbert_elliott", "delay_ms", "jitter_ms", "distribution", "duplicate", "corrupt", "reorder", "rate", "mtu", "down", "seed", "duration_ms", "blackhole_mtu")
    IFACE_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    GILBERT_ELLIOTT_FIELD_NUMBER: _ClassVar[int]
    DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    JITTER_MS_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    CORRUPT_FIELD_NUMBER: _ClassVar[int]
    REORDER_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    DOWN_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    BLACKHOLE_MTU_FIELD_NUMBER: _ClassVar[int]
    iface: str
    direction: Direction
    match: Match
    loss: float
    gilbert_elliott: GilbertElliott
    delay_ms: float
    jitter_ms: float
    distribution: DelayDistribution
    duplicate: float
    corrupt: float
    reorder: float
    rate: RateLimit
    mtu: int
    down: bool
    seed: int
    duration_ms: float
    blackhole_mtu: int
    def __init__(self, iface: _Optional[str] = ..., direction: _Optional[_Union[Direction, str]] = ..., match: _Optional[_Union[Match, _Mapping]] = ..., loss: _Optional[float] = ..., gilbert_elliott: _Optional[_Union[GilbertElliott, _Mapping]] = ..., delay_ms: _Optional[float] = ..., jitter_ms: _Optional[float] = ..., distribution: _Optional[_Union[DelayDistribution, str]] = ..., duplicate: _Optional[float] = ..., corrupt: _Optional[float] = ..., reorder: _Optional[float] = ..., rate: _Optional[_Union[RateLimit, _Mapping]] = ..., mtu: _Optional[int] = ..., down: _Optional[bool] = ..., seed: _Optional[int] = ..., duration_ms: _Optional[float] = ..., blackhole_mtu: _Optional[int] = ...) -> None: ...

class FaultCounters(_message.Message):
    __slots__ = ("seen", "matched", "dropped", "dropped_down", "dropped_blackhole", "dropped_loss", "shaped", "queued", "corrupted", "duplicated", "delayed", "reordered", "mtu_exceeded", "dropped_aqm")
    SEEN_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_DOWN_FIELD_NUMBER: _ClassVar[int]
    DROPPED_BLACKHOLE_FIELD_NUMBER: _ClassVar[int]
    DROPPED_LOSS_FIELD_NUMBER: _ClassVar[int]
    SHAPED_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    CORRUPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATED_FIELD_NUMBER: _ClassVar[int]
    DELAYED_FIELD_NUMBER: _ClassVar[int]
    REORDERED_FIELD_NUMBER: _ClassVar[int]
    MTU_EXCEEDED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_AQM_FIELD_NUMBER: _ClassVar[int]
    seen: int
    matched: int
    dropped: int
    dropped_down: int
    dropped_blackhole: int
    dropped_loss: int
    shaped: int
    queued: int
    corrupted: int
    duplicated: int
    delayed: int
    reordered: int
    mtu_exceeded: int
    dropped_aqm: int
    def __init__(self, seen: _Optional[int] = ..., matched: _Optional[int] = ..., dropped: _Optional[int] = ..., dropped_down: _Optional[int] = ..., dropped_blackhole: _Optional[int] = ..., dropped_loss: _Optional[int] = ..., shaped: _Optional[int] = ..., queued: _Optional[int] = ..., corrupted: _Optional[int] = ..., duplicated: _Optional[int] = ..., delayed: _Optional[int] = ..., reordered: _Optional[int] = ..., mtu_exceeded: _Optional[int] = ..., dropped_aqm: _Optional[int] = ...) -> None: ...

class FaultInfo(_message.Message):
    __slots__ = ("fault_id", "seed", "spec", "age_ms", "remaining_ms", "counters", "node", "first_hit_ms")
    FAULT_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    AGE_MS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_MS_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    FIRST_HIT_MS_FIELD_NUMBER: _ClassVar[int]
    fault_id: str
    seed: int
    spec: FaultSpec
    age_ms: float
    remaining_ms: float
    counters: FaultCounters
    node: str
    first_hit_ms: float
    def __init__(self, fault_id: _Optional[str] = ..., seed: _Optional[int] = ..., spec: _Optional[_Union[FaultSpec, _Mapping]] = ..., age_ms: _Optional[float] = ..., remaining_ms: _Optional[float] = ..., counters: _Optional[_Union[FaultCounters, _Mapping]] = ..., node: _Optional[str] = ..., first_hit_ms: _Optional[float] = ...) -> None: ...

class LinkShaping(_message.Message):
    __slots__ = ("rate_bps", "delay_ms", "jitter_ms", "loss", "queue_packets", "queue_bytes", "codel")
    RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    JITTER_MS_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_PACKETS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CODEL_FIELD_NUMBER: _ClassVar[int]
    rate_bps: float
    delay_ms: float
    jitter_ms: float
    loss: float
    queue_packets: int
    queue_bytes: int
    codel: Codel
    def __init__(self, rate_bps: _Optional[float] = ..., delay_ms: _Optional[float] = ..., jitter_ms: _Optional[float] = ..., loss: _Optional[float] = ..., queue_packets: _Optional[int] = ..., queue_bytes: _Optional[int] = ..., codel: _Optional[_Union[Codel, _Mapping]] = ...) -> None: ...

class StackOptions(_message.Message):
    __slots__ = ("congestion_control", "msl_ms", "syn_retries", "synack_retries", "retries1", "retries2", "orphan_retries", "fin_timeout_ms", "delayed_ack", "sack", "timestamps", "wscale", "syncookies", "initial_cwnd", "rto_min_ms", "ttl", "arp_reachable_ms", "arp_retries", "reassembly_timeout_ms", "rmem_bytes", "wmem_bytes", "hystart", "tlp", "mtu_probing", "base_mss")
    CONGESTION_CONTROL_FIELD_NUMBER: _ClassVar[int]
    MSL_MS_FIELD_NUMBER: _ClassVar[int]
    SYN_RETRIES_FIELD_NUMBER: _ClassVar[int]
    SYNACK_RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRIES1_FIELD_NUMBER: _ClassVar[int]
    RETRIES2_FIELD_NUMBER: _ClassVar[int]
    ORPHAN_RETRIES_FIELD_NUMBER: _ClassVar[int]
    FIN_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    DELAYED_ACK_FIELD_NUMBER: _ClassVar[int]
    SACK_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    WSCALE_FIELD_NUMBER: _ClassVar[int]
    SYNCOOKIES_FIELD_NUMBER: _ClassVar[int]
    INITIAL_CWND_FIELD_NUMBER: _ClassVar[int]
    RTO_MIN_MS_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    ARP_REACHABLE_MS_FIELD_NUMBER: _ClassVar[int]
    ARP_RETRIES_FIELD_NUMBER: _ClassVar[int]
    REASSEMBLY_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    RMEM_BYTES_FIELD_NUMBER: _ClassVar[int]
    WMEM_BYTES_FIELD_NUMBER: _ClassVar[int]
    HYSTART_FIELD_NUMBER: _ClassVar[int]
    TLP_FIELD_NUMBER: _ClassVar[int]
    MTU_PROBING_FIELD_NUMBER: _ClassVar[int]
    BASE_MSS_FIELD_NUMBER: _ClassVar[int]
    congestion_control: str
    msl_ms: float
    syn_retries: int
    synack_retries: int
    retries1: int
    retries2: int
    orphan_retries: int
    fin_timeout_ms: float
    delayed_ack: bool
    sack: bool
    timestamps: bool
    wscale: bool
    syncookies: bool
    initial_cwnd: int
    rto_min_ms: float
    ttl: int
    arp_reachable_ms: float
    arp_retries: int
    reassembly_timeout_ms: float
    rmem_bytes: int
    wmem_bytes: int
    hystart: bool
    tlp: bool
    mtu_probing: int
    base_mss: int
    def __init__(self, congestion_control: _Optional[str] = ..., msl_ms: _Optional[float] = ..., syn_retries: _Optional[int] = ..., synack_retries: _Optional[int] = ..., retries1: _Optional[int] = ..., retries2: _Optional[int] = ..., orphan_retries: _Optional[int] = ..., fin_timeout_ms: _Optional[float] = ..., delayed_ack: _Optional[bool] = ..., sack: _Optional[bool] = ..., timestamps: _Optional[bool] = ..., wscale: _Optional[bool] = ..., syncookies: _Optional[bool] = ..., initial_cwnd: _Optional[int] = ..., rto_min_ms: _Optional[float] = ..., ttl: _Optional[int] = ..., arp_reachable_ms: _Optional[float] = ..., arp_retries: _Optional[int] = ..., reassembly_timeout_ms: _Optional[float] = ..., rmem_bytes: _Optional[int] = ..., wmem_bytes: _Optional[int] = ..., hystart: _Optional[bool] = ..., tlp: _Optional[bool] = ..., mtu_probing: _Optional[int] = ..., base_mss: _Optional[int] = ...) -> None: ...

class TcpConnectionInfo(_message.Message):
    __slots__ = ("state", "local_address", "local_port", "remote_address", "remote_port", "congestion_control", "ca_state", "cwnd", "cwnd_bytes", "ssthresh", "srtt_ms", "rttvar_ms", "rto_ms", "mss", "pmtu", "rcv_mss", "snd_wscale", "rcv_wscale", "snd_wnd_bytes", "rcv_wnd_bytes", "bytes_sent", "bytes_retrans", "bytes_acked", "bytes_received", "segs_out", "segs_in", "data_segs_out", "data_segs_in", "retrans", "retransmits", "lost_bytes", "sacked_bytes", "dup_acks", "unacked_bytes", "send_queue_bytes", "recv_queue_bytes", "ooo_bytes", "sack", "timestamps")
    STATE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_PORT_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REMOTE_PORT_FIELD_NUMBER: _ClassVar[int]
    CONGESTION_CONTROL_FIELD_NUMBER: _ClassVar[int]
    CA_STATE_FIELD_NUMBER: _ClassVar[int]
    CWND_FIELD_NUMBER: _ClassVar[int]
    CWND_BYTES_FIELD_NUMBER: _ClassVar[int]
    SSTHRESH_FIELD_NUMBER: _ClassVar[int]
    SRTT_MS_FIELD_NUMBER: _ClassVar[int]
    RTTVAR_MS_FIELD_NUMBER: _ClassVar[int]
    RTO_MS_FIELD_NUMBER: _ClassVar[int]
    MSS_FIELD_NUMBER: _ClassVar[int]
    PMTU_FIELD_NUMBER: _ClassVar[int]
    RCV_MSS_FIELD_NUMBER: _ClassVar[int]
    SND_WSCALE_FIELD_NUMBER: _ClassVar[int]
    RCV_WSCALE_FIELD_NUMBER: _ClassVar[int]
    SND_WND_BYTES_FIELD_NUMBER: _ClassVar[int]
    RCV_WND_BYTES_FIELD_NUMBER: _ClassVar[int]
    BYTES_SENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_RETRANS_FIELD_NUMBER: _ClassVar[int]
    BYTES_ACKED_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    SEGS_OUT_FIELD_NUMBER: _ClassVar[int]
    SEGS_IN_FIELD_NUMBER: _ClassVar[int]
    DATA_SEGS_OUT_FIELD_NUMBER: _ClassVar[int]
    DATA_SEGS_IN_FIELD_NUMBER: _ClassVar[int]
    RETRANS_FIELD_NUMBER: _ClassVar[int]
    RETRANSMITS_FIELD_NUMBER: _ClassVar[int]
    LOST_BYTES_FIELD_NUMBER: _ClassVar[int]
    SACKED_BYTES_FIELD_NUMBER: _ClassVar[int]
    DUP_ACKS_FIELD_NUMBER: _ClassVar[int]
    UNACKED_BYTES_FIELD_NUMBER: _ClassVar[int]
    SEND_QUEUE_BYTES_FIELD_NUMBER: _ClassVar[int]
    RECV_QUEUE_BYTES_FIELD_NUMBER: _ClassVar[int]
    OOO_BYTES_FIELD_NUMBER: _ClassVar[int]
    SACK_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    state: str
    local_address: str
    local_port: int
    remote_address: str
    remote_port: int
    congestion_control: str
    ca_state: str
    cwnd: int
    cwnd_bytes: int
    ssthresh: int
    srtt_ms: float
    rttvar_ms: float
    rto_ms: float
    mss: int
    pmtu: int
    rcv_mss: int
    snd_wscale: int
    rcv_wscale: int
    snd_wnd_bytes: int
    rcv_wnd_bytes: int
    bytes_sent: int
    bytes_retrans: int
    bytes_acked: int
    bytes_received: int
    segs_out: int
    segs_in: int
    data_segs_out: int
    data_segs_in: int
    retrans: int
    retransmits: int
    lost_bytes: int
    sacked_bytes: int
    dup_acks: int
    unacked_bytes: int
    send_queue_bytes: int
    recv_queue_bytes: int
    ooo_bytes: int
    sack: bool
    timestamps: bool
    def __init__(self, state: _Optional[str] = ..., local_address: _Optional[str] = ..., local_port: _Optional[int] = ..., remote_address: _Optional[str] = ..., remote_port: _Optional[int] = ..., congestion_control: _Optional[str] = ..., ca_state: _Optional[str] = ..., cwnd: _Optional[int] = ..., cwnd_bytes: _Optional[int] = ..., ssthresh: _Optional[int] = ..., srtt_ms: _Optional[float] = ..., rttvar_ms: _Optional[float] = ..., rto_ms: _Optional[float] = ..., mss: _Optional[int] = ..., pmtu: _Optional[int] = ..., rcv_mss: _Optional[int] = ..., snd_wscale: _Optional[int] = ..., rcv_wscale: _Optional[int] = ..., snd_wnd_bytes: _Optional[int] = ..., rcv_wnd_bytes: _Optional[int] = ..., bytes_sent: _Optional[int] = ..., bytes_retrans: _Optional[int] = ..., bytes_acked: _Optional[int] = ..., bytes_received: _Optional[int] = ..., segs_out: _Optional[int] = ..., segs_in: _Optional[int] = ..., data_segs_out: _Optional[int] = ..., data_segs_in: _Optional[int] = ..., retrans: _Optional[int] = ..., retransmits: _Optional[int] = ..., lost_bytes: _Optional[int] = ..., sacked_bytes: _Optional[int] = ..., dup_acks: _Optional[int] = ..., unacked_bytes: _Optional[int] = ..., send_queue_bytes: _Optional[int] = ..., recv_queue_bytes: _Optional[int] = ..., ooo_bytes: _Optional[int] = ..., sack: _Optional[bool] = ..., timestamps: _Optional[bool] = ...) -> None: ...
