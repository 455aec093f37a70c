"""The one place that says which address a request comes from.

REMOTE_ADDR is the socket's peer. Behind a reverse proxy that peer is the proxy, and the client's
address is in X-Forwarded-For, a header anybody can write. So the header is believed only when
the peer is one of TRUSTED_PROXIES (addresses or networks), and only as far as the chain of
trusted proxies goes: walking X-Forwarded-For from the right, the first hop that is not a trusted
proxy is the client. A client cannot pick its own address (and so its own rate-limit or lockout
bucket) by sending the header itself.

Used by the login lockout (django-axes' AXES_CLIENT_IP_CALLABLE), the ADMIN_PASSWORD gate, the
web form's rate limit and the consent record.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(values) -> tuple[IPNetwork, ...]:
    """TRUSTED_PROXIES entries ("10.0.0.2", "10.0.0.0/8", "::1") as networks; ValueError names a bad one."""
    networks = []
    for value in values or ():
        value = str(value).strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(f"TRUSTED_PROXIES: {value!r} is not an IP address or network") from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_trusted_proxies(values)


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the nearest untrusted X-Forwarded-For hop behind trusted proxies."""
    meta = getattr(request, "META", None) or {}
    remote = meta.get("REMOTE_ADDR") or None
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if remote is None or not networks or not _trusted(_address(remote), networks):
        return remote
    nearest = remote
    for hop in reversed([part for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]):
        address = _address(hop)
        if address is None:
            return nearest  # garbage in the chain: the last hop we can vouch for
        if not _trusted(address, networks):
            return str(address)
        nearest = str(address)
    return nearest
