"""Where an attempt may connect: the merchant's URL, re-checked and resolved at delivery time.

The host is resolved once per attempt and the request goes to that address (the original host
in ``Host`` and in TLS SNI, so the certificate is still checked against the name): a DNS
answer that changes between the check and the connection (DNS rebinding) cannot steer the
request to another address. In AWS (``strict``) only https to public addresses is allowed;
loopback, private, link-local (the instance metadata service), multicast and reserved
addresses are refused. Locally plain http and loopback receivers are allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

Resolver = Callable[[str, int], Awaitable[list[str]]]  # (host, port) -> the addresses it resolves to


class AddressRefused(Exception):
    """The URL may not be called; ``reason`` is short and safe to record and show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Target:
    """One attempt's connection: the pinned URL, the Host header and the TLS server name."""

    url: str
    host_header: str
    sni_hostname: str | None


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve_target(url: str, *, strict: bool, resolver: Resolver = system_resolver) -> Target:
    """The connection for ``url``, or :class:`AddressRefused`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused("invalid_url") from exc
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("https", "http") or not host or parts.username is not None or parts.password is not None:
        raise AddressRefused("invalid_url")
    if strict and scheme != "https":
        raise AddressRefused("https_required")
    port = port or (443 if scheme == "https" else 80)
    try:
        found = await resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused("unresolvable") from exc
    addresses = [a for a in (_literal(value.split("%", 1)[0]) for value in found) if a is not None]
    if not addresses:
        raise AddressRefused("unresolvable")
    if strict and not all(is_public(a) for a in addresses):  # one private answer is enough to refuse
        raise AddressRefused("address_refused")
    address = addresses[0]
    netloc = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    default_port = port == (443 if scheme == "https" else 80)
    host_header = host if default_port else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if default_port else f"[{host}]:{port}"
    sni = host if scheme == "https" and _literal(host) is None else None
    pinned = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(url=pinned, host_header=host_header, sni_hostname=sni)
