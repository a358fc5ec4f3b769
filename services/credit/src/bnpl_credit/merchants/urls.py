"""URL rules of the registry: origins of return URLs, and where webhooks may be sent."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL (default ports dropped), else ``None``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def normalise_origin(value: str) -> str:
    """An origin as the registry stores it; ``ValueError`` for anything but scheme://host[:port]."""
    origin = origin_of(value)
    parts = urlsplit(value)
    if origin is None or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"not an origin (scheme://host[:port]): {value!r}")
    return origin


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook_url(url: str, *, local: bool, resolve: bool = True) -> str:
    """The webhook URL if allowed, else ``ValueError`` saying why.

    In AWS (``local`` false): https only, and the host must not be or resolve to a private,
    loopback, link-local or otherwise non-public address. Locally, http is also allowed for
    loopback hosts (the demo shop).
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise ValueError("webhookUrl is not a valid URL") from exc
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password or parts.fragment:
        raise ValueError("webhookUrl must be an absolute URL without credentials or fragment")
    if parts.scheme == "http" and local and _is_loopback(host):
        return url
    if parts.scheme != "https":
        raise ValueError("webhookUrl must use https" + ("" if local else " (http only for loopback, locally)"))
    if local:
        return url
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not _is_public(host):
            raise ValueError("webhookUrl must not point at a private, loopback or link-local address")
        return url
    if host == "localhost" or host.endswith((".localhost", ".internal", ".local")):
        raise ValueError("webhookUrl must not point at a private, loopback or link-local address")
    if resolve:
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise ValueError("webhookUrl's host does not resolve") from exc
        if not infos or not all(_is_public(str(info[4][0]).split("%")[0]) for info in infos):
            raise ValueError("webhookUrl must not point at a private, loopback or link-local address")
    return url
