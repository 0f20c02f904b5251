"""``POST /api/v1/feeds/<slug>/push``: payloads pushed by the city's systems and NGSI brokers.

Every sender is authenticated before anything changes (no one outside may put an alert on
air), in one of two ways:
- the city's own systems sign: ``X-Carillon-Timestamp`` (Unix seconds, within
  ``CARILLON_FEED_PUSH_MAX_SKEW_SECONDS`` of our clock), ``X-Carillon-Nonce`` (used once: kept
  in the database) and ``X-Carillon-Signature``, the hex HMAC-SHA256 with the source's
  ``hmac_secret`` over ``f"{timestamp}.{nonce}.".encode() + body``;
- NGSI brokers (Orion's ``httpCustom`` headers, NGSI-LD's ``receiverInfo``), which cannot
  sign, send the source's ``push_token`` in ``X-Carillon-Token``: for NGSI sources only.
Answers: 202 with the counts; 401 for any authentication failure (an unknown source too, so
nothing is learnt), with nothing changed; 403 for a disabled source; 413 over
``CARILLON_FEED_MAX_BYTES``; 400 for a payload the adapter refuses (recorded on the source).
"""

import hashlib
import hmac
import logging
import re
import time

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from city_feeds.items import FeedError
from city_feeds.models import FeedDelivery, FeedSource, FeedStandard
from city_feeds.services import payload_ingest, push_nonce_use

logger = logging.getLogger(__name__)

TOKEN_STANDARDS = frozenset({FeedStandard.NGSI_LD, FeedStandard.NGSI_V2})
NONCE = re.compile(r"[A-Za-z0-9._~-]{8,100}")
SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


class Unauthorized(Exception):
    """Why a push is refused (logged, never told to the sender)."""


def push_signature(*, secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The hex HMAC-SHA256 a signed push carries (senders compute the same)."""
    message = f"{timestamp}.{nonce}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _signed(request: HttpRequest, source: FeedSource, body: bytes) -> str | None:
    """The nonce of a correctly signed request, or ``None`` if it carries no signature."""
    timestamp = request.headers.get("X-Carillon-Timestamp")
    nonce = request.headers.get("X-Carillon-Nonce")
    signature = request.headers.get("X-Carillon-Signature")
    if timestamp is None and nonce is None and signature is None:
        return None
    if not (timestamp and nonce and signature):
        raise Unauthorized("incomplete signature headers")
    if not (timestamp.isdigit() and NONCE.fullmatch(nonce) and SIGNATURE.fullmatch(signature)):
        raise Unauthorized("malformed signature headers")
    if not source.hmac_secret:  # an empty key would let anyone sign
        raise Unauthorized("no signing key")
    if abs(time.time() - int(timestamp)) > settings.CARILLON_FEED_PUSH_MAX_SKEW_SECONDS:
        raise Unauthorized("timestamp outside the accepted window")
    expected = push_signature(
        secret=source.hmac_secret, timestamp=timestamp, nonce=nonce, body=body
    )
    if not hmac.compare_digest(expected, signature.lower()):
        raise Unauthorized("bad signature")
    return nonce


def _authenticate(request: HttpRequest, source: FeedSource | None, body: bytes) -> None:
    if source is None:
        raise Unauthorized("unknown source")
    if source.delivery == FeedDelivery.LOCAL:
        raise Unauthorized("a local source takes no push")
    nonce = _signed(request, source, body)
    if nonce is not None:
        if not push_nonce_use(source=source, nonce=nonce):
            raise Unauthorized("nonce already used")
        return
    token = request.headers.get("X-Carillon-Token", "")
    if not token:
        raise Unauthorized("no credentials")
    if source.standard not in TOKEN_STANDARDS:
        raise Unauthorized("token authentication is for NGSI sources only")
    if not source.push_token or not hmac.compare_digest(token.encode(), source.push_token.encode()):
        raise Unauthorized("bad token")


def _body(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or ``None`` when it is larger than ``limit`` (read no further than that)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@csrf_exempt
@require_POST
def feed_push(request: HttpRequest, slug: str) -> JsonResponse:
    body = _body(request, settings.CARILLON_FEED_MAX_BYTES)
    if body is None:
        return JsonResponse({"error": "payload too large"}, status=413)
    source = FeedSource.objects.filter(slug=slug).first()
    try:
        _authenticate(request, source, body)
    except Unauthorized as refusal:
        logger.warning("push refused source=%s reason=%s", slug, refusal)
        return JsonResponse({"error": "unauthorized"}, status=401)
    assert source is not None  # noqa: S101 - _authenticate refuses an unknown source
    if not source.enabled:
        return JsonResponse({"error": "source disabled"}, status=403)
    try:
        result = payload_ingest(source=source, data=body)
    except FeedError as err:
        return JsonResponse({"error": str(err)}, status=400)
    return JsonResponse(
        {"created": result.created, "updated": result.updated, "alerts": result.alerts},
        status=202,
    )
