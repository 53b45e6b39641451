"""Where a webhook may go. A server that posts to any URL it is given can be turned on the
network behind it (SSRF), so outside the demo and tests only https:// URLs that resolve to
public addresses are allowed, checked when saved and again before every delivery."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from xingdong.core.i18n import N_

MAX_URL_LENGTH = 500


def url_problem(url: str, *, private_allowed: bool) -> str | None:  # noqa: PLR0911 - a rule a line
    """What is wrong with ``url`` as a webhook target, without asking DNS (None: nothing)."""
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        return N_("Enter a URL of at most 500 characters, without spaces.")
    parts = urlsplit(url)
    if private_allowed and parts.scheme not in ("https", "http"):
        return N_("Use an http:// or https:// URL.")
    if not private_allowed and parts.scheme != "https":
        return N_("Use an https:// URL.")
    if not parts.hostname:
        return N_("The URL needs a host name.")
    if parts.username or parts.password:
        return N_("Leave the user name and password out of the URL.")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        return N_("The URL's port is not valid.")
    if not private_allowed and _literal_address_is_private(parts.hostname):
        return N_("Use an address on the public internet.")
    return None


NAT64 = ipaddress.ip_network("64:ff9b::/96")
NEVER_PUBLIC = (
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
    ipaddress.ip_network("fec0::/10"),  # deprecated site-local
    ipaddress.ip_network("::ffff:0:0:0/96"),  # IPv4-translated (RFC 2765)
)
"""Ranges some Python versions' tables call global although they lead inside a network."""


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """On the public internet, including what an IPv6 address carries inside it (a
    mapped, 6to4 or NAT64 IPv4 address reaches that IPv4 host)."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in NEVER_PUBLIC):
            return False
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None and not inner.is_global:
            return False
    return address.is_global


def _literal_address_is_private(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return not is_public(ipaddress.ip_address(host))
    except ValueError:
        return False


@dataclass(frozen=True)
class Target:
    problem: str | None
    """Why the URL may not be used now (None: it may)."""
    address: str | None
    """The checked address to connect to, so that a second lookup (which a host name
    can answer differently: DNS rebinding) is never made; None where any address may be
    used (private targets allowed)."""


async def checked_target(url: str, *, private_allowed: bool) -> Target:
    """``url_problem``, and, unless private targets are allowed, whether every address
    its host resolves to now is public, with the one to connect to."""
    problem = url_problem(url, private_allowed=private_allowed)
    if problem is not None or private_allowed:
        return Target(problem, None)
    parts = urlsplit(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError:
        return Target(N_("The URL's host name does not resolve."), None)
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(is_public(ipaddress.ip_address(a)) for a in addresses):
        return Target(N_("Use an address on the public internet."), None)
    return Target(None, addresses[0])


async def resolved_problem(url: str, *, private_allowed: bool) -> str | None:
    """What is wrong with ``url`` as a webhook target now, DNS asked (None: nothing)."""
    return (await checked_target(url, private_allowed=private_allowed)).problem
