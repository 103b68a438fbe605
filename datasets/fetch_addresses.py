"""Which addresses ``datasets.fetch`` may connect to: every address a host resolves to must be
public (see ``datasets.fetch``'s docstring for the rules), unless ``FETCH_ALLOWED_NETWORKS``
opens it. Split from ``datasets.fetch`` along the resolve / connect seam."""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_BLOCKED_EXTRA = [
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("192.0.0.0/24"),
    ipaddress.ip_network("198.18.0.0/15"),
    ipaddress.ip_network("255.255.255.255/32"),
]


class FetchError(Exception):
    """A refused or failed fetch; ``str(exc)`` is the sentence for the user."""

    def __init__(
        self, message: str, *, status_code: int = 400, error_type: str = "invalid_request"
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(n, strict=False)
        for n in getattr(settings, "FETCH_ALLOWED_NETWORKS", [])
    ]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    out = []
    if ip.ipv4_mapped:
        out.append(ip.ipv4_mapped)
    if ip.sixtofour:
        out.append(ip.sixtofour)
    if ip.teredo:
        out.extend(ip.teredo)
    if ip in _NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):  # (or IPv4-compatible ::a.b.c.d)
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def address_is_public(address: str) -> bool:
    """True when ``address`` (an IP literal) may be fetched from."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip in net for net in _allowed_networks()):
        return True
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates.extend(_embedded_ipv4(ip))
    for cand in candidates:
        if (
            not cand.is_global
            or cand.is_multicast
            or cand.is_reserved
            or cand.is_unspecified
            or cand.is_loopback
            or cand.is_link_local
            or cand.is_private
            or any(cand in net for net in _BLOCKED_EXTRA if net.version == cand.version)
        ):
            return False
    return True


def resolve_public(host: str, port: int) -> list[str]:
    """Resolve ``host``; every answer must be public. Returns the addresses to connect to."""
    host = host.strip("[]")
    # A name gets one sentence whether it does not resolve or resolves to an internal address:
    # two sentences told any tenant which internal names exist (db.internal, redis.local...).
    unusable = FetchError(
        f"The host {host!r} could not be resolved to a public address; only public addresses "
        "can be fetched."
    )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise unusable from None
    addresses = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = str(sockaddr[0])
        if not address_is_public(addr):
            if _is_literal(host):  # an address written in the URL: nothing to hide, say why
                raise FetchError(
                    f"The URL points to {host!r}, a private, loopback, link-local or otherwise "
                    "internal address; only public addresses can be fetched."
                )
            raise unusable
        if addr not in addresses:
            addresses.append(addr)
    if not addresses:
        raise unusable
    return addresses


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
