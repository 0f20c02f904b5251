"""The tus 1.0 resumable upload protocol (https://tus.io/protocols/resumable-upload): the pure
parts of our server, with no database and no files.

Headers in, values or ``TusError`` out: ``Upload-Length``, ``Upload-Offset``, the request's
``Content-Length``, ``Tus-Resumable`` and ``Upload-Metadata`` (comma-separated ``key base64``
pairs). ``read_chunks`` streams a request body in pieces, so a PATCH never sits in memory.
"""

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Protocol

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "termination", "expiration")
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
READ_BYTES = 1024 * 1024
MAX_METADATA_CHARS = 4096
_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_DIGITS = re.compile(r"[0-9]{1,19}")


class TusError(Exception):
    """A request that breaks the protocol: the HTTP status to answer and why (for logs and for
    the client's error message)."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status}: {reason}")


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def version_supported(value: str | None) -> bool:
    """Whether a request's ``Tus-Resumable`` names the version we speak."""
    return value == TUS_VERSION


def parse_size(value: str | None, *, header: str) -> int:
    """A non-negative byte count from a header (``Upload-Length``, ``Upload-Offset``,
    ``Content-Length``); 400 when missing or not a plain decimal number."""
    if value is None or not _DIGITS.fullmatch(value.strip()):
        raise TusError(400, f"{header} must be a non-negative integer")
    return int(value.strip())


def parse_metadata(value: str | None) -> dict[str, str]:
    """``Upload-Metadata`` as a dict: each pair is a key and its base64 value (a key alone
    means an empty value). Keys must be unique and values UTF-8 text."""
    if not value or not value.strip():
        return {}
    if len(value) > MAX_METADATA_CHARS:
        raise TusError(400, "Upload-Metadata is too long")
    metadata: dict[str, str] = {}
    for pair in value.split(","):
        key, _, encoded = pair.strip().partition(" ")
        if not _KEY.fullmatch(key) or key in metadata:
            raise TusError(400, f"Upload-Metadata has an invalid or repeated key: {key[:64]!r}")
        metadata[key] = _decode(encoded.strip(), key=key)
    return metadata


def _decode(encoded: str, *, key: str) -> str:
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as err:
        raise TusError(400, f"Upload-Metadata value of {key!r} is not base64 UTF-8") from err


def encode_metadata(metadata: dict[str, str]) -> str:
    """The ``Upload-Metadata`` header of a HEAD answer (the inverse of ``parse_metadata``)."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode('ascii')}" if value else key
        for key, value in metadata.items()
    )


def check_append(*, offset: int, expected: int, body_bytes: int, length: int, cap: int) -> None:
    """Whether a PATCH of ``body_bytes`` at ``offset`` may append to an upload of ``length``
    bytes that holds ``expected`` so far, with bodies capped at ``cap`` bytes."""
    if body_bytes > cap:
        raise TusError(413, f"A chunk may not exceed {cap} bytes")
    if offset != expected:
        raise TusError(409, f"Upload-Offset {offset} does not match the upload's {expected}")
    if offset + body_bytes > length:
        raise TusError(413, "The chunk goes beyond the declared Upload-Length")


def read_chunks(stream: Readable, total: int, *, size: int = READ_BYTES) -> Iterator[bytes]:
    """At most ``total`` bytes of ``stream`` in pieces of ``size``; stops early when the
    stream ends (a client that dropped the connection)."""
    remaining = total
    while remaining > 0:
        piece = stream.read(min(size, remaining))
        if not piece:
            return
        remaining -= len(piece)
        yield piece
