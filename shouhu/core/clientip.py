"""The client's address, the one helper every view, log and limit uses (issue 10 part 8, R11.4).

Behind a reverse proxy every request comes from the proxy, so a limit per address would block every
citizen at once, and the access log would name the proxy. `X-Forwarded-For` fixes that only when the
direct peer is a proxy we run: anyone else can write the header, so it is ignored unless `REMOTE_ADDR`
is in `SHOUHU_TRUSTED_PROXIES` (addresses or networks, e.g. `127.0.0.1,10.0.0.0/8`). The header is read
from the right (the hop our proxy added) and the first address that is not itself a trusted proxy is
the client; a malformed entry stops the walk at the last good one, so a forged prefix cannot win.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(raw: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw if item.strip())


def trusted_networks() -> tuple[Network, ...]:
    """SHOUHU_TRUSTED_PROXIES parsed (a list or a comma-separated string; checked at start-up)."""
    raw = getattr(settings, "SHOUHU_TRUSTED_PROXIES", ())
    items = raw.split(",") if isinstance(raw, str) else raw
    return _networks(tuple(str(i) for i in items))


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_trusted(address: Any) -> bool:
    return address is not None and any(address in net for net in trusted_networks())


def client_ip(request: Any) -> str | None:
    """The client's address: the direct peer, or (only when the peer is a trusted proxy) the nearest
    untrusted hop of X-Forwarded-For. None when there is no usable peer address."""
    meta = getattr(request, "META", {})
    peer = _address(str(meta.get("REMOTE_ADDR") or ""))
    if peer is None:
        return None
    if not is_trusted(peer):
        return str(peer)
    client = peer
    hops = str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")
    for raw in reversed(hops):
        hop = _address(raw)
        if hop is None:
            break
        client = hop
        if not is_trusted(hop):
            break
    return str(client)
