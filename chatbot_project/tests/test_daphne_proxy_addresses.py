"""Behind a proxy, both servers take the visitor's address from ``X-Forwarded-For`` sent by a
peer in FORWARDED_ALLOW_IPS (default 127.0.0.1). daphne read none: every visitor had the proxy's
address, so the sign-in limit per address (20/m) and browser keys' per-visitor limits held the
whole site to one visitor's share. Seen through the sign-in limit: 20 failed sign-ins from one
forwarded address, then its 21st is refused while another forwarded address is still heard."""

from __future__ import annotations

import httpx
import pytest

from chatbot_project.testing.processes import start_server, stop

pytestmark = pytest.mark.django_db(transaction=True)


def _sign_ins(base: str, forwarded_for: str, count: int) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for}
    with httpx.Client(base_url=base, timeout=10) as client:
        return [  # (a username each: one username has its own limit of failures)
            client.post(
                "/v1/auth/token", json={"username": f"nobody{i}", "password": "x"}, headers=headers
            ).status_code
            for i in range(count)
        ]


@pytest.mark.parametrize(("server", "net"), [("uvicorn", "203.0.113"), ("daphne", "198.51.100")])
def test_a_trusted_proxys_forwarded_address_is_the_visitor(server, net):
    proc, base = start_server(server=server, LISTEN_SOCKETS="1")
    try:
        assert _sign_ins(base, f"{net}.1", 21) == [401] * 20 + [429]
        assert _sign_ins(base, f"{net}.2", 1) == [401]  # another visitor, not the proxy
    finally:
        stop(proc)


def test_daphne_ignores_the_header_from_a_peer_it_does_not_trust():
    proc, base = start_server(server="daphne", FORWARDED_ALLOW_IPS="10.9.8.7")
    try:
        assert _sign_ins(base, "192.0.2.1", 21)[-1] == 429
        assert _sign_ins(base, "192.0.2.2", 1) == [429]  # both were 127.0.0.1, the peer
    finally:
        stop(proc)
