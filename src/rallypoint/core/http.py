"""The one guarded client for every request made to the outside on a user's behalf (webhooks,
anything that fetches an address someone typed).

What it guarantees, whatever the address says:
- only the schemes the caller allows (https by default), no user name or password in the address;
- the host name is resolved once, and every address it resolves to must be public: no loopback,
  private (RFC 1918, fc00::/7), link-local (169.254/16 with the cloud metadata address,
  fe80::/10), shared (100.64/10), multicast, unspecified, reserved or documentation ranges, nor
  IPv6 forms that carry one of those (IPv4-mapped, 6to4, NAT64, Teredo);
- the connection goes to the address that was checked (a second DNS answer cannot point it
  inside the network), while the Host header, TLS SNI and certificate check use the host name;
- no redirect is followed, every step has a timeout, and only the first bytes of the reply are
  read; the caller gets the status and a short text excerpt, and failures come back as a few
  fixed messages (never the text of a socket error, which would tell ports apart).

OUTGOING_ALLOWED_HOSTS (host names or CIDR ranges) lets an operator name internal receivers.
"""

import ipaddress
import logging
import re
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import urllib3
from django.conf import settings
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)

logger = logging.getLogger(__name__)

EXCERPT_CHARS = 200  # what callers may keep of a reply: a fixed, short, text-only excerpt
READ_BYTES = 1024  # at most this much of a reply is read (enough for EXCERPT_CHARS of UTF-8)
DEFAULT_PORTS = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Dotted, decimal, octal and hex IPv4 forms ("2130706433", "0177.0.0.1", "0x7f.1", "127.1"):
# resolvers read these as addresses, so they are addresses here too.
LEGACY_IPV4_RE = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Not globally reachable, whatever this Python's `is_global` says (its tables changed in 3.12.4
# and 3.13): IETF protocol assignments, the old 6to4 relay, local-use NAT64, discard-only,
# site-local.
NOT_PUBLIC = [
    ipaddress.ip_network(net)
    for net in ("192.0.0.0/24", "192.88.99.0/24", "64:ff9b:1::/48", "100::/64", "fec0::/10")
]
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")

MESSAGE_INSIDE = (
    "This address points inside the server's own network (local, private or reserved "
    "addresses are refused). Use the receiver's public address."
)
MESSAGE_FORM = "Enter a full address starting with {schemes}."
MESSAGE_USERINFO = "Leave the user name and password out of the address."
MESSAGE_DNS = "Could not find the receiver's address (DNS)."
MESSAGE_CONNECT = "Could not connect to the receiver."
MESSAGE_TIMEOUT = "The receiver did not answer in time."
MESSAGE_TLS = "The receiver's HTTPS certificate was not accepted."
MESSAGE_BROKEN = "The connection to the receiver broke off."


class OutgoingError(Exception):
    """A request that was not made or did not complete; `message` is fixed and safe to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DestinationRefused(OutgoingError):
    """The address is not one this server may send to: nothing was sent, nothing was probed."""


@dataclass(frozen=True)
class Reply:
    status: int
    excerpt: str  # at most EXCERPT_CHARS characters of text ("" for other kinds of content)


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # lower case, without brackets or a trailing dot
    port: int
    path: str  # path and query, as sent in the request line
    host_header: str


# --- what an address may be -------------------------------------------------------------------


def _allowed_entries() -> tuple[set[str], list[Network]]:
    raw = getattr(settings, "OUTGOING_ALLOWED_HOSTS", ())
    items: Iterable[str] = raw.split(",") if isinstance(raw, str) else raw
    names: set[str] = set()
    networks: list[Network] = []
    for item in items:
        entry = item.strip().lower().strip("[]")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found = [ip.ipv4_mapped, ip.sixtofour]
    if ip.teredo:
        found.extend(ip.teredo)
    if ip in NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [v4 for v4 in found if v4 is not None]


def address_is_public(ip: IPAddress) -> bool:
    """True for an address on the public internet, and for nothing that could be inside."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        if not all(address_is_public(v4) for v4 in _embedded_ipv4(ip)):
            return False
    if any(ip.version == net.version and ip in net for net in NOT_PUBLIC):
        return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def _address_allowed(ip: IPAddress, networks: list[Network]) -> bool:
    return address_is_public(ip) or any(ip.version == net.version and ip in net for net in networks)


def _literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP (in any notation a resolver accepts) stands for."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if LEGACY_IPV4_RE.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            return None
    return None


# --- reading an address -----------------------------------------------------------------------


def _target(url: str, schemes: tuple[str, ...]) -> _Target:
    form_message = MESSAGE_FORM.format(schemes=" or ".join(f"{s}://" for s in schemes))
    if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 for c in url):
        raise OutgoingError(form_message)
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutgoingError(form_message)
    scheme = parts.scheme.lower()
    if scheme not in schemes or not parts.netloc:
        raise OutgoingError(form_message)
    if "@" in parts.netloc:
        raise OutgoingError(MESSAGE_USERINFO)
    host = (parts.hostname or "").rstrip(".")
    if not host or "%" in host or "\\" in parts.netloc:
        raise OutgoingError(form_message)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise OutgoingError(form_message)
    port = port or DEFAULT_PORTS[scheme]
    if port == 0:
        raise OutgoingError(form_message)
    host_in_header = f"[{host}]" if ":" in host else host
    if port != DEFAULT_PORTS[scheme]:
        host_in_header = f"{host_in_header}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(scheme, host, port, path, host_in_header)


def url_check(*, url: str, schemes: tuple[str, ...] = ("https",), resolve: bool = True) -> str:
    """Check an address where it is typed (a form, the API), with the same rules the sending
    applies again later. A host name that does not resolve yet passes: sending checks it then.
    Raises OutgoingError (DestinationRefused for an address inside) with a message to show."""
    target = _target(url, schemes)
    names, networks = _allowed_entries()
    if target.host in names:
        return url
    literal = _literal_address(target.host)
    if literal is not None:
        if not _address_allowed(literal, networks):
            raise DestinationRefused(MESSAGE_INSIDE)
        return url
    if target.host in LOCAL_NAMES or target.host.endswith(".localhost"):
        raise DestinationRefused(MESSAGE_INSIDE)
    if resolve:
        try:
            addresses = _resolve(target)
        except OutgoingError:
            return url
        if not all(_address_allowed(ip, networks) for ip in addresses):
            raise DestinationRefused(MESSAGE_INSIDE)
    return url


def url_named_in_setting(*, url: str, schemes: tuple[str, ...] = ("https",)) -> bool:
    """Whether OUTGOING_ALLOWED_HOSTS names this address's host (e.g. a single-label service
    name on the operator's own network, which general URL syntax checks would refuse)."""
    try:
        return _target(url, schemes).host in _allowed_entries()[0]
    except OutgoingError:
        return False


def _resolve(target: _Target) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise OutgoingError(MESSAGE_DNS)
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]))  # a scoped IPv6 address keeps its "%zone"
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise OutgoingError(MESSAGE_DNS)
    return addresses


# --- sending ----------------------------------------------------------------------------------


def request_send(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
    schemes: tuple[str, ...] = ("https",),
) -> Reply:
    """Make one request through the guards above and return the status and a short excerpt of
    the reply. Raises DestinationRefused before any connection for an address inside, and
    OutgoingError (with a fixed message) when the request could not be completed."""
    target = _target(url, schemes)
    names, networks = _allowed_entries()
    addresses = _resolve(target)
    if target.host not in names:
        refused = [ip for ip in addresses if not _address_allowed(ip, networks)]
        if refused:
            logger.warning(
                "outgoing request to %s refused: it resolves to %s",
                target.host,
                ", ".join(map(str, refused)),
            )
            raise DestinationRefused(MESSAGE_INSIDE)
    deadline = time.monotonic() + timeout
    last_error: OutgoingError = OutgoingError(MESSAGE_CONNECT)
    for ip in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OutgoingError(MESSAGE_TIMEOUT)
        try:
            return _send_to(ip, target, method, headers or {}, body, remaining, deadline)
        except _CouldNotConnect as exc:
            last_error = exc  # try the host's next address
    raise last_error


class _CouldNotConnect(OutgoingError):
    pass


def _pool(ip: IPAddress, target: _Target, timeout: float) -> urllib3.HTTPConnectionPool:
    timeouts = urllib3.Timeout(connect=timeout, read=timeout)
    if target.scheme == "https":
        # Connected to the checked address; SNI and the certificate check use the host name.
        return urllib3.HTTPSConnectionPool(
            str(ip),
            target.port,
            timeout=timeouts,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            assert_hostname=target.host,
            server_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(
        str(ip), target.port, timeout=timeouts, retries=False, maxsize=1
    )


def _send_to(
    ip: IPAddress,
    target: _Target,
    method: str,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: float,
    deadline: float,
) -> Reply:
    pool = _pool(ip, target, timeout)
    sent_headers = {**headers, "Host": target.host_header}
    try:
        response = pool.urlopen(
            method,
            target.path,
            body=body,
            headers=sent_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            decode_content=False,
            assert_same_host=False,
        )
        try:
            raw = _read_capped(response, deadline)
            return Reply(response.status, excerpt_of(raw, response.headers.get("Content-Type")))
        finally:
            response.close()
    except HTTPError as exc:
        raise _failure(exc) from None
    finally:
        pool.close()


def _read_capped(response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
    raw = b""
    while len(raw) < READ_BYTES and time.monotonic() < deadline:
        chunk = response.read(min(256, READ_BYTES - len(raw)))
        if not chunk:
            break
        raw += chunk
    return raw


def _failure(exc: HTTPError) -> OutgoingError:
    if isinstance(exc, MaxRetryError) and isinstance(exc.reason, HTTPError):
        exc = exc.reason
    if isinstance(exc, SSLError):
        return OutgoingError(MESSAGE_TLS)
    if isinstance(exc, ConnectTimeoutError | NewConnectionError):
        return _CouldNotConnect(MESSAGE_CONNECT)
    if isinstance(exc, ReadTimeoutError):
        return OutgoingError(MESSAGE_TIMEOUT)
    return OutgoingError(MESSAGE_BROKEN)


TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]+")


def excerpt_of(raw: bytes, content_type: str | None) -> str:
    """At most EXCERPT_CHARS characters of a text reply, control characters blanked out; other
    kinds of content (images, archives, anything unnamed) give nothing."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if not kind.startswith(TEXT_TYPES) and not kind.endswith("+json"):
        return ""
    text = raw.decode("utf-8", "replace")
    return CONTROL_RE.sub(" ", text)[:EXCERPT_CHARS].strip()
