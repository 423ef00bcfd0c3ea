"""Addresses the platform may reach on someone else's say-so: a link a citizen or an Open311 client
gives (`media_url`), a service's webhook. Such an address must be on the public internet, never the
platform's own network: loopback, private (RFC 1918, unique-local IPv6), link-local (the cloud's
metadata service at 169.254.169.254), shared (100.64/10), multicast, reserved or unspecified.

A name is resolved and every address it has is checked: one bad address is enough to refuse it,
since a connection may pick any of them. The check is repeated when the connection is made, and the
connection goes to the very address checked (`GuardedHTTPHandler`): a name that resolved to a public
address when it was saved may point at 127.0.0.1 by the time it is used (DNS rebinding).

Networks in `settings.TSUR["ALLOWED_PRIVATE_NETWORKS"]` (empty by default) are allowed on purpose:
a receiver inside the region's own network, or the test suite's local HTTP server.
"""

import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

from .errors import DomainError

# The resolver, one name for the tests to stand in for DNS.
getaddrinfo = socket.getaddrinfo


class BlockedAddress(DomainError):
    """An address on the platform's own network, or not an http(s) address at all."""

    code = "blocked_address"


class UnresolvedAddress(OSError):
    """The name has no address now; whether it may be used is decided when it is used."""


def _allowed_networks():
    return [ipaddress.ip_network(n, strict=False) for n in settings.TSUR.get("ALLOWED_PRIVATE_NETWORKS", ())]


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (or in a network allowed on purpose)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index names a local link
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(ip in network for network in _allowed_networks()):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        # 6to4 and Teredo carry an IPv4 address inside, which is where a relay would connect
        inner = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None and not is_public(str(inner)):
            return False
    return ip.is_global and not ip.is_multicast


def addresses(host: str, port: int | None = None) -> list[str]:
    """Every address the name resolves to now; `UnresolvedAddress` if it has none."""
    try:
        found = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnresolvedAddress(f"{host}: {error}") from None
    return list(dict.fromkeys(info[4][0] for info in found))


def check_host(host: str, port: int | None = None, *, what: str = "Адрес") -> list[str]:
    """The host's addresses, all of them public, or `BlockedAddress` naming the first that is not."""
    found = addresses(host, port)
    for address in found:
        if not is_public(address):
            raise BlockedAddress(
                f"{what} ведёт во внутреннюю сеть ({host} → {address}): "
                "допускаются только адреса в интернете."
            )
    return found


def check_url(url: str, *, what: str = "Адрес", field: str | None = None) -> None:
    """Refuse a URL that is not http(s) or whose host is (or resolves to) a non-public address.
    A name that does not resolve now is let through: it cannot be reached now, and it is checked
    again at the moment it is used."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedAddress(f"{what}: нужна ссылка http:// или https://.", field=field)
    try:
        port = parts.port
    except ValueError:
        raise BlockedAddress(f"{what}: неверный номер порта.", field=field) from None
    try:
        check_host(parts.hostname, port, what=what)
    except BlockedAddress as refusal:
        raise BlockedAddress(refusal.message, field=field) from None
    except UnresolvedAddress:
        return


def _guarded_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
    """`socket.create_connection` to an address checked at this moment, and to no other."""
    host, port = address
    try:
        checked = check_host(host, port, what="Адрес получателя")
    except UnresolvedAddress as error:
        raise OSError(str(error)) from None
    last = None
    for ip in checked:
        try:
            return socket.create_connection((ip, port), timeout, source_address)
        except OSError as error:
            last = error
    raise last or OSError(f"{host}: no address")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connection


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    # TLS is still negotiated with the name (SNI, certificate check): only the socket is guarded
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connection


class GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_GuardedHTTPConnection, req)


class GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_GuardedHTTPSConnection, req, context=self._context)


def opener(*handlers) -> urllib.request.OpenerDirector:
    """A urllib opener that connects only to public addresses, checked as it connects, and never
    through a proxy from the environment (the proxy's address is not the receiver's)."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), GuardedHTTPHandler(), GuardedHTTPSHandler(), *handlers
    )
