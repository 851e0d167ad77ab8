"""The client's address, for per-address limits and the audit.

Behind a reverse proxy every request comes from the proxy; the proxy names the client in
``X-Forwarded-For``. That header is believed only when the peer is one of TRUSTED_PROXIES,
and only up to the first address that is not itself a trusted proxy (read from the right),
so a client cannot choose its own address by sending the header itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"10.0.0.1, 192.168.0.0/16"`` -> networks; raises ValueError on a bad entry."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, headers: Mapping[str, str], trusted_proxies: str) -> str:
    """The client's address: the TCP peer, or, when the peer is a trusted proxy, the
    right-most address of X-Forwarded-For that is not a trusted proxy."""
    peer = peer or "unknown"
    networks = parse_networks(trusted_proxies) if trusted_proxies else ()
    if not networks or not _trusted(peer, networks):
        return peer
    forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",")]
    for address in reversed([part for part in forwarded if part]):
        if not _trusted(address, networks):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return peer  # a proxy passed on garbage: trust nothing further
    return peer
