"""Outbound fetches of editor-set URLs, which are never trusted.

Every fetch:
- connects only to allowed addresses: the address checked is the one the socket actually
  connected to (after DNS), so a name that resolves to an internal address, or changes its
  answer between a check and the connection, is refused all the same. Loopback is never
  allowed (except where ``CARILLON_FEED_ALLOW_LOOPBACK`` is set: the test suite's local
  servers); private ranges only for a source that allows them (a server of the city's own
  network); link-local (cloud metadata at 169.254.169.254), multicast, unspecified and reserved
  addresses never;
- follows at most ``MAX_REDIRECTS`` redirects, by hand and only to the same host (an upgrade
  from http to https is allowed, a downgrade is not); no proxy from the environment;
- stops at a total deadline (``CARILLON_FEED_TIMEOUT_SECONDS``), however slowly the server
  trickles its bytes, and at ``CARILLON_FEED_MAX_BYTES`` of body;
- raises ``FetchError`` for anything else than a 2xx answer, with a reason fit for the source's
  health line; ``transient`` says whether trying again later may help (network errors, 5xx,
  429) or not (4xx, refused addresses, oversized bodies).
"""

import contextvars
import ipaddress
import logging
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 16 * 1024


class FetchError(Exception):
    """The URL could not be fetched; ``transient``: a later try may succeed."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class AddressRefused(FetchError):
    """The host resolved to an address that fetches may not reach."""


@dataclass(frozen=True)
class _Policy:
    allow_private: bool
    allow_loopback: bool


# The policy of the fetch running in this thread, read by the connections it opens.
STRICT = _Policy(allow_private=False, allow_loopback=False)
_policy: contextvars.ContextVar[_Policy] = contextvars.ContextVar(
    "carillon_fetch_policy", default=STRICT
)


def address_allowed(address: str, *, allow_private: bool, allow_loopback: bool = False) -> bool:
    """Whether a fetch may connect to ``address`` (IPv4 or IPv6, IPv4-mapped unwrapped)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return False
    if ip.is_global:
        return True
    return allow_private and ip.is_private


def _check_peer(sock: socket.socket, host: str) -> None:
    policy = _policy.get()
    peer = sock.getpeername()[0]
    if not address_allowed(
        peer, allow_private=policy.allow_private, allow_loopback=policy.allow_loopback
    ):
        sock.close()
        raise AddressRefused(f"address not allowed: {host} is {peer}")


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock, self.host)
        return sock


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock, self.host)
        return sock


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: it would bypass the check
    adapter = HTTPAdapter(max_retries=0)
    adapter.poolmanager.pool_classes_by_scheme = {
        "http": _CheckedHTTPPool,
        "https": _CheckedHTTPSPool,
    }
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _redirect_target(current: str, location: str) -> str:
    """The URL a redirect leads to, refused unless on the same host (and port, or an upgrade
    to https)."""
    target = urljoin(current, location)
    old, new = urlsplit(current), urlsplit(target)
    same_host = (old.hostname or "").lower() == (new.hostname or "").lower()
    same_place = same_host and new.scheme == old.scheme and new.port == old.port
    upgrade = same_host and old.scheme == "http" and new.scheme == "https"
    if not (same_place or upgrade):
        raise FetchError(f"redirect to another host refused: {target}")
    return target


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise FetchError(f"no complete answer within {self.seconds:g} s", transient=True)
        return left


def _read_body(response: requests.Response, *, deadline: _Deadline, max_bytes: int) -> bytes:
    """The body, read as it arrives (``read1``: a trickling server cannot hold one read past
    the deadline), stopped at ``max_bytes``."""
    if response.headers.get("Content-Encoding", "identity").lower() not in ("identity", ""):
        raise FetchError("compressed answer refused (identity was asked)")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"answer too large: {declared} bytes (limit {max_bytes})")
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline.remaining()
        _socket_timeout_set(raw, left)
        chunk = raw.read1(CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"answer too large: over {max_bytes} bytes")
        chunks.append(chunk)


def _socket_timeout_set(raw: Any, seconds: float) -> None:
    """Shorten the read timeout of the connection's socket to what the deadline leaves."""
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(min(seconds, sock.gettimeout() or seconds))


def _get_once(
    session: requests.Session, url: str, *, headers: Mapping[str, str], deadline: _Deadline
) -> requests.Response:
    left = deadline.remaining()
    try:
        return session.get(
            url,
            headers={**headers, "Accept-Encoding": "identity"},
            allow_redirects=False,
            stream=True,
            timeout=(min(left, 5.0), left),
        )
    except requests.RequestException as err:
        raise FetchError(f"network error: {err}", transient=True) from err


def _check_status(response: requests.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    transient = status >= 500 or status == 429
    raise FetchError(f"HTTP {status} {response.reason or ''}".strip(), transient=transient)


def url_fetch(
    *, url: str, headers: Mapping[str, str] | None = None, allow_private: bool = False
) -> bytes:
    """The body of a GET of ``url`` (see the module's docstring for the limits)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs are fetched: {url}")
    deadline = _Deadline(float(settings.CARILLON_FEED_TIMEOUT_SECONDS))
    policy = _Policy(
        allow_private=allow_private, allow_loopback=bool(settings.CARILLON_FEED_ALLOW_LOOPBACK)
    )
    token = _policy.set(policy)
    try:
        with _session() as session:
            return _follow(session, url, headers=dict(headers or {}), deadline=deadline)
    finally:
        _policy.reset(token)


def _follow(
    session: requests.Session, url: str, *, headers: dict[str, str], deadline: _Deadline
) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        response = _get_once(session, url, headers=headers, deadline=deadline)
        with response:
            if response.status_code not in REDIRECT_STATUSES:
                _check_status(response)
                return _read_body_safely(response, deadline=deadline)
            url = _redirect_target(url, response.headers.get("Location", ""))
            logger.info("fetch redirected to %s", url)
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _read_body_safely(response: requests.Response, *, deadline: _Deadline) -> bytes:
    try:
        return _read_body(response, deadline=deadline, max_bytes=settings.CARILLON_FEED_MAX_BYTES)
    except (OSError, requests.RequestException, urllib3.exceptions.HTTPError) as err:
        # a timeout or a reset in the middle of the body
        raise FetchError(f"network error while reading: {err}", transient=True) from err
