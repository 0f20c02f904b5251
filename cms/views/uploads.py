"""The tus 1.0 endpoint at ``/api/v1/uploads/``: creation (POST), offset (HEAD), chunks (PATCH),
termination (DELETE) and discovery (OPTIONS), for signed-in residents and editors.

Every answer carries ``Tus-Resumable``; a request in another protocol version gets 412. The
session's CSRF token is required on writes (Uppy sends it as ``X-CSRFToken``): the check runs
inside the endpoint, so its refusal also speaks tus. An upload is visible to its owner only;
anyone else gets 404. A PATCH body is streamed to disk in pieces, never read whole, and capped
at ``CARILLON_UPLOAD_CHUNK_BYTES`` (nginx caps it too, before it reaches us).
"""

from collections.abc import Callable
from functools import wraps
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from cms import tus
from cms.models import Upload, UploadState
from cms.services.uploads import UploadRefused, upload_append, upload_create, upload_terminate

View_ = Callable[..., HttpResponseBase]


def tus_answer(status: int, message: str = "", **headers: str) -> HttpResponse:
    """An answer of the endpoint: plain text (tus clients show it in their errors)."""
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def tus_endpoint(view: View_) -> View_:
    """Protocol version, sign-in and CSRF checks around a tus view; ``Tus-Resumable`` on every
    answer. (Django's CSRF middleware is told to skip the view because ``csrf_protect`` runs
    the same check here, after the version and sign-in checks.)"""
    protected = csrf_protect(view)

    @wraps(view)
    def endpoint(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        response = _checked(request) or (
            view(request, *args, **kwargs)
            if request.method == "OPTIONS"
            else protected(request, *args, **kwargs)
        )
        response["Tus-Resumable"] = tus.TUS_VERSION
        return response

    return csrf_exempt(endpoint)


def _checked(request: HttpRequest) -> HttpResponse | None:
    if request.method == "OPTIONS":
        return None
    if not tus.version_supported(request.headers.get("Tus-Resumable")):
        return tus_answer(412, "Unsupported tus version", Tus_Version=tus.TUS_VERSION)
    if not request.user.is_authenticated:
        return tus_answer(401, _("Sign in to send a video."))
    return None


def _refusal(err: tus.TusError | UploadRefused) -> HttpResponse:
    if isinstance(err, tus.TusError):
        return tus_answer(err.status, err.reason)
    return tus_answer(err.status, str(err.message))


def _discovery() -> HttpResponse:
    return tus_answer(
        204,
        Tus_Version=tus.TUS_VERSION,
        Tus_Extension=",".join(tus.TUS_EXTENSIONS),
        Tus_Max_Size=str(settings.CARILLON_UPLOAD_MAX_BYTES),
    )


def _expires(upload: Upload) -> dict[str, str]:
    if upload.state != UploadState.RECEIVING:
        return {}
    return {"Upload_Expires": http_date(upload.expires_at.timestamp())}


class UploadsView(View):
    """``/api/v1/uploads/``: discovery and creation."""

    http_method_names = ["post", "options"]

    def options(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        return _discovery()

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            length = tus.parse_size(request.headers.get("Upload-Length"), header="Upload-Length")
            metadata = tus.parse_metadata(request.headers.get("Upload-Metadata"))
            upload = upload_create(owner=request.user, length=length, metadata=metadata)  # type: ignore[arg-type]
        except (tus.TusError, UploadRefused) as err:
            return _refusal(err)
        location = reverse("uploads:upload", kwargs={"upload_id": upload.pk})
        return tus_answer(201, Location=location, Upload_Offset="0", **_expires(upload))


class UploadView(View):
    """``/api/v1/uploads/<id>``: offset, chunks, termination, for the upload's owner only."""

    http_method_names = ["head", "patch", "delete", "options"]

    def options(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        return _discovery()

    def _own(self, request: HttpRequest, upload_id: UUID) -> Upload | None:
        return Upload.objects.filter(pk=upload_id, owner_id=request.user.pk).first()

    def head(self, request: HttpRequest, upload_id: UUID) -> HttpResponse:
        upload = self._own(request, upload_id)
        if upload is None:
            return tus_answer(404)
        if _gone(upload):
            return tus_answer(410, Cache_Control="no-store")
        headers = {
            "Upload_Offset": str(upload.offset),
            "Upload_Length": str(upload.length),
            "Cache_Control": "no-store",
            **_expires(upload),
        }
        if upload.metadata:
            headers["Upload_Metadata"] = tus.encode_metadata(upload.metadata)
        return tus_answer(200, **headers)

    def patch(self, request: HttpRequest, upload_id: UUID) -> HttpResponse:
        upload = self._own(request, upload_id)
        if upload is None:
            return tus_answer(404)
        if _gone(upload):
            return tus_answer(410, _("This upload has expired: send the file again."))
        if request.content_type != tus.OFFSET_CONTENT_TYPE:
            return tus_answer(415, f"Content-Type must be {tus.OFFSET_CONTENT_TYPE}")
        if "CONTENT_LENGTH" not in request.META:
            return tus_answer(411, "Content-Length is required")
        try:
            upload = self._append(request, upload)
        except (tus.TusError, UploadRefused) as err:
            return _refusal(err)
        return tus_answer(204, Upload_Offset=str(upload.offset), **_expires(upload))

    def _append(self, request: HttpRequest, upload: Upload) -> Upload:
        offset = tus.parse_size(request.headers.get("Upload-Offset"), header="Upload-Offset")
        size = tus.parse_size(request.META.get("CONTENT_LENGTH"), header="Content-Length")
        tus.check_append(
            offset=offset,
            expected=upload.offset,
            body_bytes=size,
            length=upload.length,
            cap=settings.CARILLON_UPLOAD_CHUNK_BYTES,
        )
        return upload_append(upload=upload, offset=offset, pieces=tus.read_chunks(request, size))

    def delete(self, request: HttpRequest, upload_id: UUID) -> HttpResponse:
        upload = self._own(request, upload_id)
        if upload is None:
            return tus_answer(404)
        try:
            upload_terminate(upload=upload)
        except UploadRefused as err:
            return _refusal(err)
        return tus_answer(204)


def _gone(upload: Upload) -> bool:
    """Expired, or past its expiry and not yet swept."""
    if upload.state == UploadState.EXPIRED:
        return True
    return upload.state == UploadState.RECEIVING and upload.expires_at <= timezone.now()
