"""Editors' previews of videos that are not public: ``/previews/videos/<id>/<name>``.

Renditions stay in private storage until a video is approved (``media/storage.py``). The
editors' library still shows their posters and can play their ladder through this view, which
answers editors (``user_is_editor``) and the resident who sent the video: anonymous users are
sent to the login page, everyone else is refused. ``name`` is a file of the asset's own renditions
(``master.m3u8``, ``poster.jpg``, ``<rung>/index.m3u8``, ``<rung>/seg_00000.ts``), nothing else.

Locally the file is sent from private storage. On S3 a playlist is sent through the view too
(its relative URIs must come back here), anything else is a redirect to a signed URL valid for
``SIGNED_URL_SECONDS``. Answers may be kept by the editor's browser only.
"""

import re

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import Storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_safe
from storages.backends.s3 import S3Storage

from broadcasting.media.permissions import user_is_editor
from broadcasting.media.storage import asset_prefix, private_storage
from broadcasting.models import Asset

NAME = re.compile(r"(?:[A-Za-z0-9_-]+/)?[A-Za-z0-9_-]+\.(m3u8|ts|jpg)")
CONTENT_TYPES = {"m3u8": "application/vnd.apple.mpegurl", "ts": "video/mp2t", "jpg": "image/jpeg"}
SIGNED_URL_SECONDS = 60
CACHE_CONTROL = "private, max-age=60"


def preview_url(asset: Asset, name: str) -> str:
    """The preview URL of the asset's file ``name``: relative to its renditions' folder, or its
    storage name (``Asset.poster``, ``Asset.master_playlist``); ``""`` for no file."""
    relative = name.removeprefix(f"{asset_prefix(asset.pk)}/")
    if not NAME.fullmatch(relative):
        return ""
    return reverse("broadcasting:video-preview", args=[asset.pk, relative])


@require_safe
@login_required
def video_preview(request: HttpRequest, pk: int, name: str) -> HttpResponseBase:
    owners = list(Asset.objects.filter(pk=pk).values_list("owner_id", flat=True))
    if not user_is_editor(request.user) and owners != [request.user.pk]:
        raise PermissionDenied("only editors and the video's sender see a preview")
    found = NAME.fullmatch(name)
    if found is None or not owners:
        raise Http404("no such preview")
    stored = f"{asset_prefix(pk)}/{name}"
    content_type = CONTENT_TYPES[found.group(1)]
    storage = private_storage()
    if isinstance(storage, S3Storage):
        return _from_s3(storage, stored, content_type)
    return _from_files(storage, stored, content_type)


def _from_files(storage: Storage, stored: str, content_type: str) -> FileResponse:
    try:
        handle = storage.open(stored, "rb")
    except FileNotFoundError as err:
        raise Http404("no such preview") from err
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = CACHE_CONTROL
    return response


def _from_s3(storage: S3Storage, stored: str, content_type: str) -> HttpResponseBase:
    if not storage.exists(stored):
        raise Http404("no such preview")
    if content_type == CONTENT_TYPES["m3u8"]:
        with storage.open(stored, "rb") as handle:
            response: HttpResponseBase = HttpResponse(handle.read(), content_type=content_type)
    else:
        response = HttpResponseRedirect(storage.url(stored, expire=SIGNED_URL_SECONDS))
    response["Cache-Control"] = CACHE_CONTROL
    return response
