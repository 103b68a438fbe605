"""Who a sign-in attempt is counted for (``tenants.apis.count_sign_in``, ``LOGIN_LIMIT``).

The client address, with an IPv6 address counted by its /64 network: one host or home is given
a whole /64 and may send from any address in it, so counted by the full address, a password
guesser changing address each time never reached the limit (as django-ratelimit's
``RATELIMIT_IPV6_MASK`` and the chat's per-visitor limit, ``conversations.slots``, count). An
IPv4-mapped IPv6 address counts as its IPv4 address.
"""

from __future__ import annotations

import ipaddress
from typing import Any


def sign_in_address(request: Any) -> str:
    address = request.META.get("REMOTE_ADDR", "") or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
