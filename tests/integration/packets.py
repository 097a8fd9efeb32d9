# Frames built byte by byte for the tests, good and deliberately broken, and parsers for what
# comes back. Plain struct, so a malformed header is exactly the bytes the test says.
import ipaddress
import socket
import struct

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4_header(src, dst, payload_len, proto=17, ttl=64, ident=0x1234, df=False, ihl=5,
               total_length=None, bad_checksum=False):
    flags = 0x4000 if df else 0
    total = 20 + payload_len if total_length is None else total_length
    hdr = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, total, ident, flags, ttl, proto, 0,
                      ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    csum = checksum(hdr)
    if bad_checksum:
        csum ^= 0x5555
    return hdr[:10] + struct.pack("!H", csum) + hdr[12:]


def udp(src, dst, sport, dport, payload):
    # Checksum 0 is legal for UDP over IPv4 and keeps the tests about the IP layer.
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ip4_udp(src, dst, payload, sport=40000, dport=9, **kw):
    body = udp(src, dst, sport, dport, payload)
    return ip4_header(src, dst, len(body), **kw) + body


def ether(dst_mac, src_mac, payload, ethertype=ETH_P_IP):
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + struct.pack("!H", ethertype) + payload


class Ip4:
    """The fields of an IPv4 packet the tests look at."""

    def __init__(self, data):
        vihl, _, self.total_length, self.ident, frag, self.ttl, self.proto, self.csum = \
            struct.unpack("!BBHHHBBH", data[:12])
        self.ihl = vihl & 0xF
        hl = self.ihl * 4
        self.src = str(ipaddress.IPv4Address(data[12:16]))
        self.dst = str(ipaddress.IPv4Address(data[16:20]))
        self.df = bool(frag & 0x4000)
        self.mf = bool(frag & 0x2000)
        self.offset = (frag & 0x1FFF) * 8
        self.header = data[:hl]
        self.payload = data[hl:self.total_length]
        self.checksum_ok = checksum(self.header) == 0


class Icmp:
    def __init__(self, data):
        self.type, self.code, self.csum, self.rest = struct.unpack("!BBH4s", data[:8])
        self.mtu = struct.unpack("!H", self.rest[2:4])[0]  # next-hop MTU of type 3 code 4
        self.quote = data[8:]
        self.checksum_ok = checksum(data) == 0


def parse_frame(frame):
    """(dst_mac, src_mac, Ip4) for an IPv4 frame, else None."""
    if len(frame) < 34 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    fmt = lambda b: ":".join(f"{x:02x}" for x in b)
    return fmt(frame[0:6]), fmt(frame[6:12]), Ip4(frame[14:])


def packet_socket(topo_socket_in, ns, dev):
    s = topo_socket_in(ns, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((dev, 0))
    return s
