"""Hosts: a URL's host, allow-list patterns, and which addresses are public (the crawler reaches
private, loopback and special-purpose ones only for sources that opt in)."""
from __future__ import annotations

import fnmatch
import ipaddress
from urllib.parse import urlsplit


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def host_matches(host: str, patterns) -> bool:
    host = (host or "").lower().rstrip(".")
    return any(host == p or fnmatch.fnmatchcase(host, p) for p in patterns)


# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64, well-known
# and local-use): judged by that IPv4 address, like the mapped, 6to4 and Teredo forms
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# special-purpose IPv4 ranges that `is_global` of the Python in use may still call global (3.11
# does so for most of 192.0.0.0/24): IETF protocol assignments, the deprecated 6to4 relay anycast,
# carrier-grade NAT
_NOT_PUBLIC = tuple(ipaddress.ip_network(n) for n in ("192.0.0.0/24", "192.88.99.0/24", "100.64.0.0/10"))


def is_public_address(address: str) -> bool:
    """A globally routable unicast address: the standard library's `is_global` (every IANA
    special-purpose range out: private, loopback, link-local and the cloud metadata service,
    carrier-grade NAT 100.64.0.0/10, benchmarking, documentation, reserved), 192.0.0.0/24 and
    192.88.99.0/24 whatever the Python version says, no multicast, and an IPv4 address inside an IPv6 one judged as the IPv4 address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # a scope id (fe80::1%eth0) is not part of it
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped or ip.sixtofour or ip.teredo:
            ip = ip.ipv4_mapped or ip.sixtofour or ip.teredo[1]
        elif any(ip in net for net in _NAT64):
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast and not any(ip in net for net in _NOT_PUBLIC if net.version == ip.version)


def is_private_host(host: str) -> bool:
    """A host the crawler may not reach without `allow_private`: a local name, or an address
    literal that is not public. A name is judged at connection time, by the address actually
    connected to (scrapers/downloader/transport.py), never by a lookup done beforehand."""
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        return not is_public_address(host.strip("[]"))
    except ValueError:
        return False
