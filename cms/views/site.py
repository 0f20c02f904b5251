"""Public views of the site besides its Wagtail pages: what a published video or post needs
that is not a page (subtitles, image), served only while it is published."""

import mimetypes

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from broadcasting.media.storage import private_storage
from cms import selectors

PUBLIC_CACHE = "public, max-age=300"  # a take-down stops being served within minutes
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}


@require_safe
def video_subtitles(request: HttpRequest, public_key: str) -> HttpResponse:
    """The WebVTT subtitles of a published video."""
    asset = selectors.video_published_get(public_key=public_key)
    subtitles = selectors.video_subtitles(asset) if asset is not None else ""
    if not subtitles:
        raise Http404(public_key)
    response = HttpResponse(subtitles, content_type="text/vtt; charset=utf-8")
    response["Cache-Control"] = PUBLIC_CACHE
    return response


@require_safe
def post_image(request: HttpRequest, public_key: str) -> FileResponse:
    """The image of an approved post, read from private storage (the name is the post's own,
    never anything from the request)."""
    post = selectors.post_published_get(public_key=public_key)
    if post is None or not post.image:
        raise Http404(public_key)
    content_type = mimetypes.guess_type(post.image)[0] or ""
    if content_type not in IMAGE_TYPES:
        raise Http404(public_key)
    try:
        handle = private_storage().open(post.image, "rb")
    except FileNotFoundError as err:
        raise Http404(public_key) from err
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = PUBLIC_CACHE
    return response
