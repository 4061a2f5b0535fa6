"""Runs in the PEER namespace (the Linux kernel side): provokes answers from the node under
test and records every frame that comes back over the veth, decoded independently of our
codecs (plain struct). Prints one JSON object.

    peer_probe.py probe IFACE TARGET_IP [--wait S]
        one ARP request (raw), one ICMP echo (kernel), one UDP datagram to closed port 9
        (kernel), one TCP SYN to closed port 80 (kernel connect) -> {"frames": [kinds...]}
    peer_probe.py udp-echo TARGET_IP PORT SIZE...
        kernel UDP socket: send each size, expect the same bytes back -> {"ok": [...]}
    peer_probe.py tcp-echo TARGET_IP PORT SIZE
        kernel TCP socket: stream SIZE bytes, read them back -> {"ok", "received", "seconds"}
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time

ETH_P_ALL = 0x0003
SIOCGIFADDR, SIOCGIFHWADDR = 0x8915, 0x8927


def _ifreq(sock: socket.socket, request: int, name: str) -> bytes:
    return fcntl.ioctl(sock.fileno(), request, name.encode().ljust(40, b"\x00"))


def classify(frame: bytes) -> str:
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    if ethertype == 0x0806:
        op = struct.unpack_from("!H", frame, 20)[0]
        return {1: "arp-request", 2: "arp-reply"}.get(op, "arp-other")
    if ethertype == 0x86DD:
        return "ipv6"
    if ethertype != 0x0800:
        return f"ethertype-{ethertype:04x}"
    ihl = (frame[14] & 0x0F) * 4
    proto, l4 = frame[23], 14 + ihl
    if proto == 1:
        kind, code = frame[l4], frame[l4 + 1]
        if kind == 0:
            return "icmp-echo-reply"
        if kind == 3:
            quoted_proto = frame[l4 + 8 + 9]
            what = {6: "tcp", 17: "udp"}.get(quoted_proto, str(quoted_proto))
            return f"icmp-unreach-{code}-{what}"
        return f"icmp-{kind}-{code}"
    if proto == 6:
        flags = frame[l4 + 13]
        return "tcp-rst" if flags & 0x04 else f"tcp-{flags:02x}"
    if proto == 17:
        return "udp"
    return f"ipv4-{proto}"


def probe(iface: str, target: str, wait: float) -> dict[str, object]:
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    cap.bind((iface, ETH_P_ALL))
    cap.setblocking(False)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        my_mac = _ifreq(s, SIOCGIFHWADDR, iface)[18:24]
        my_ip = _ifreq(s, SIOCGIFADDR, iface)[20:24]
    target_ip = socket.inet_aton(target)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, my_mac, my_ip, bytes(6), target_ip)
    cap.send(b"\xff" * 6 + my_mac + b"\x08\x06" + arp)
    time.sleep(0.05)  # let the node learn our MAC from the request before IP arrives

    icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    body = struct.pack("!BBHHH", 8, 0, 0, 0x4242, 1) + b"wirelab-probe"
    padded = body + b"\x00" * (len(body) % 2)
    csum = sum(struct.unpack(f"!{len(padded) // 2}H", padded))
    while csum >> 16:
        csum = (csum & 0xFFFF) + (csum >> 16)
    body = body[:2] + struct.pack("!H", ~csum & 0xFFFF) + body[4:]
    icmp.sendto(body, (target, 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.sendto(b"anyone there?", (target, 9))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setblocking(False)
    tcp.connect_ex((target, 80))

    frames: list[str] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            data, addr = cap.recvfrom(65536)
        except BlockingIOError:
            time.sleep(0.01)
            continue
        if addr[2] != socket.PACKET_OUTGOING:
            frames.append(classify(data))
    tcp_error = tcp.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    for sock in (cap, icmp, udp, tcp):
        sock.close()
    return {"frames": sorted(frames), "tcp_error": errno.errorcode.get(tcp_error, "0")}


def udp_echo(target: str, port: int, sizes: list[int]) -> dict[str, object]:
    ok = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2.0)
        for size in sizes:
            payload = os.urandom(size)
            s.sendto(payload, (target, port))
            try:
                data, _ = s.recvfrom(65536)
            except TimeoutError:
                ok.append(False)
                continue
            ok.append(data == payload)
    return {"ok": ok}


def tcp_echo(target: str, port: int, size: int) -> dict[str, object]:
    """Kernel TCP client: stream ``size`` random bytes (a sender thread), read the echo."""
    data = os.urandom(size)
    got = bytearray()
    start = time.monotonic()
    with socket.create_connection((target, port), timeout=10) as s:

        def send_all() -> None:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send_all)
        sender.start()
        while chunk := s.recv(1 << 16):
            got += chunk
        sender.join()
    return {
        "ok": hashlib.sha256(got).digest() == hashlib.sha256(data).digest(),
        "received": len(got),
        "seconds": round(time.monotonic() - start, 3),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    pr = sub.add_parser("probe")
    pr.add_argument("iface")
    pr.add_argument("target")
    pr.add_argument("--wait", type=float, default=1.0)
    ue = sub.add_parser("udp-echo")
    ue.add_argument("target")
    ue.add_argument("port", type=int)
    ue.add_argument("sizes", type=int, nargs="+")
    te = sub.add_parser("tcp-echo")
    te.add_argument("target")
    te.add_argument("port", type=int)
    te.add_argument("size", type=int)
    args = p.parse_args()
    if args.cmd == "probe":
        result = probe(args.iface, args.target, args.wait)
    elif args.cmd == "udp-echo":
        result = udp_echo(args.target, args.port, args.sizes)
    else:
        result = tcp_echo(args.target, args.port, args.size)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
