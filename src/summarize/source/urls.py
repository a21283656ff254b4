"""Which addresses a URL from a stranger may reach, and one deadline for a whole fetch.

An article URL (a command-line argument, a ``summarize()`` source, a JSONL row's
``"url"`` or ``"text"``) comes from someone we do not know, and the page it names goes
to the model provider. So a fetch never reaches this machine or its network unless
the caller says so (``allow_private_urls=True``, ``--allow-private-urls``):

- only ``http`` and ``https``; redirects are followed here, hop by hop (at most
  ``MAX_REDIRECTS``), each new address checked as the first was;
- every address the host name resolves to (IPv4 and IPv6, IPv4-mapped and 6to4 forms
  unwrapped) must be a public one: loopback, private, link-local (cloud metadata at
  169.254.169.254), CGNAT (100.64/10), multicast, reserved and unspecified addresses
  are refused;
- the fetch as a whole (every hop, every byte) has one deadline.

What is left: a name that resolves to a public address when checked and to a private
one when connected (DNS rebinding within the same second) is not caught; see
docs/security.md.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from summarize.errors import InputError

MAX_REDIRECTS = 5
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (``getaddrinfo``)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port)})


resolve: Resolver = system_resolver  # tests put a stub resolver here


def public(address: str) -> bool:
    """Whether ``address`` is one a stranger's URL may reach."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is not None:
            ip = inner
    if ip in _CGNAT:
        return False
    return bool(ip.is_global) and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def check(url: str, *, allow_private: bool = False) -> None:
    """Refuse ``url`` unless it is http(s) and (unless ``allow_private``) every address
    its host resolves to is public."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url}: only http:// and https:// URLs with a host are fetched")
    if allow_private:
        return
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise InputError(f"{url}: the port is not a number; check the URL") from exc
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise InputError(f"{url}: {host} could not be resolved ({exc}); check the URL") from exc
    private = [a for a in addresses if not public(a)]
    if private or not addresses:
        raise InputError(
            f"{url}: {host} is {', '.join(private) or 'no address'}, a private, local or "
            "reserved address; pages on this machine or its network are not fetched unless "
            "allow_private_urls=True (--allow-private-urls)"
        )


class FetchDeadline:
    """One deadline for a whole fetch: every hop and every byte."""

    def __init__(self, seconds: float, url: str) -> None:
        self.seconds = seconds
        self.url = url
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; an ``InputError`` when none are."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise InputError(
                f"{self.url}: not fetched within {self.seconds:g} s; try again or raise "
                "timeout (--timeout)"
            )
        return left
