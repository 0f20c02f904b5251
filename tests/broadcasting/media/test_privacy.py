"""Nothing unapproved is public (issue 10 §1).

Four videos (four different pictures) go through the real pipeline (intake, probe, transcode of cached encodes in a
360p-only format): one pending, one approved then rejected, one approved then deleted in the
admin, one approved after its transcode. Then no byte of the first three is reachable without
login, neither through Django (the public media route of ``config.urls`` in DEBUG, the
previews) nor through nginx with ``make run``'s configuration (``scripts/nginx-conf.sh``), at
their old ``assets/<id>/`` names, their private names or the public keys they once had; the
approved one answers at its public key only. Nothing public names an asset's id or storage path:
the ``/now``, schedule and XMLTV answers, and the live output (its ``index.json`` is private).
"""

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import requests
from django.conf import settings as django_settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import re_path
from django.utils import timezone
from django.views.static import serve

import config.urls
from broadcasting.live.playout import publish_window
from broadcasting.live.store import live_prefix
from broadcasting.media import services
from broadcasting.media.formats import DEFAULT_FORMAT
from broadcasting.media.grid import segment_start
from broadcasting.media.services import asset_approve, asset_create_from_file, asset_reject
from broadcasting.media.storage import (
    asset_prefix,
    private_storage,
    public_storage,
    store_renditions,
)
from broadcasting.media.transcoding import transcode_job_run
from broadcasting.models import Asset, ChannelFormat, Rendition, TranscodeJob
from playlists.models import Channel
from tests.broadcasting import clips
from tests.broadcasting.cached_media import encoded_clip
from tests.broadcasting.conftest import MakeClip
from tests.factories import EditorFactory, ReadyAssetFactory, ScheduledItemFactory
from tests.support import ROOT

RUNG = next(r for r in DEFAULT_FORMAT.rungs if r.name == "360p")
SPEC = dataclasses.replace(DEFAULT_FORMAT, rungs=(RUNG,))
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ROLES_CLOSED = ("pending", "rejected", "deleted")
NAMES = ("master.m3u8", "poster.jpg", f"{RUNG.name}/index.m3u8", f"{RUNG.name}/seg_00000.ts")
SLUG = "carillon-chartres"
OnCommit = Callable[..., AbstractContextManager[Any]]


def _serve_public_media(request: HttpRequest, path: str) -> HttpResponseBase:
    """What ``config.urls`` adds in DEBUG (``static(PUBLIC_MEDIA_URL, ...)``), with this test's
    media root read at request time."""
    return serve(request, path, document_root=str(Path(django_settings.MEDIA_ROOT) / "public"))


# The urlconf of the Django checks: the project's, plus public media as served in DEBUG.
urlpatterns = [
    re_path(r"^media/public/(?P<path>.*)$", _serve_public_media),
    *config.urls.urlpatterns,
]


@dataclass
class Library:
    """The four videos: ids, original names, every file's bytes (by name relative to the
    asset's folder) and every public key each one ever had."""

    ids: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)


def _read(name: str) -> bytes:
    """A stored file's bytes, wherever the code under test keeps it."""
    for storage in (private_storage(), public_storage()):
        if storage.exists(name):
            with storage.open(name, "rb") as handle:
                data: bytes = handle.read()
                return data
    raise AssertionError(f"{name} is in no storage")


def _files_of(asset: Asset) -> dict[str, bytes]:
    """Master, poster, the rung's playlist and segments, by name relative to the asset's folder."""
    names = [asset.master_playlist, asset.poster]
    for rendition in asset.renditions.all():
        names.append(rendition.playlist)
        names += [
            f"{rendition.segment_prefix}seg_{i:05d}.ts" for i in range(rendition.segment_count)
        ]
    return {name.split("/", 2)[2]: _read(name) for name in names}


def _keys_of(asset: Asset) -> set[str]:
    asset.refresh_from_db()
    return {asset.public_key} if asset.public_key else set()


@pytest.fixture
def publish_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The publication task that an approval sends runs here, as a worker would run it."""

    def inline(*, asset_id: int) -> None:
        services.asset_publish_files(asset_id=asset_id)  # type: ignore[attr-defined]

    monkeypatch.setattr(services, "asset_publish_enqueue", inline, raising=False)


def _imported(clip: Path, title: str) -> Asset:
    return asset_create_from_file(path=clip, original_name=clip.name, title=title)


def _transcoded(asset: Asset, on_commit: OnCommit) -> Asset:
    job = TranscodeJob.objects.get(asset=asset, state="queued")
    with on_commit(execute=True):
        assert transcode_job_run(job_id=job.pk, worker="test") == "ready"
    return Asset.objects.get(pk=asset.pk)


def _build_library(make_clip: MakeClip, client: Client, on_commit: OnCommit) -> Library:
    editor = EditorFactory(is_superuser=True)
    library = Library()
    clip_of = {
        "pending": make_clip(clips.mono, 1.0),
        "rejected": make_clip(clips.landscape_1080p, 1.0),
        "deleted": make_clip(clips.four_by_three, 1.0),
        "approved": make_clip(clips.portrait_rotated, 1.0),
    }
    assets = {role: _imported(clip, role) for role, clip in clip_of.items()}
    with on_commit(execute=True):  # approved before its transcode ends
        asset_approve(asset=assets["rejected"], editor=editor)
    for role, asset in assets.items():
        assets[role] = _transcoded(asset, on_commit)
        library.ids[role] = asset.pk
        library.sources[role] = asset.source
        library.files[role] = _files_of(assets[role])
    for role in ("deleted", "approved"):  # approved once ready
        with on_commit(execute=True):
            asset_approve(asset=assets[role], editor=editor)
    for role, asset in assets.items():
        library.keys[role] = _keys_of(asset)
    with on_commit(execute=True):
        asset_reject(asset=assets["rejected"], editor=editor, reason="Le son est inaudible.")
    client.force_login(editor)
    with on_commit(execute=True):
        response = client.post(f"/admin/videos/delete/{library.ids['deleted']}/")
    assert response.status_code == 302, response.content[:500]
    client.logout()
    assert not Asset.objects.filter(pk=library.ids["deleted"]).exists()
    return library


@pytest.fixture
def library(
    make_clip: MakeClip,
    client: Client,
    cached_media_builds: None,
    small_ladder: None,
    publish_inline: None,
    django_capture_on_commit_callbacks: OnCommit,
) -> Library:
    return _build_library(make_clip, client, django_capture_on_commit_callbacks)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _secret_digests(library: Library) -> set[str]:
    """Bytes of the three closed videos (originals included) that the approved one lacks."""
    closed = {_digest(data) for role in ROLES_CLOSED for data in library.files[role].values()}
    closed -= {_digest(data) for data in library.files["approved"].values()}
    return closed


def closed_paths(library: Library) -> list[str]:
    """Every URL path where a closed video's bytes were or could be: old public names, private
    names under both media prefixes, public keys they once had, the previews, the originals."""
    paths = ["/media/public/v/", "/media/public/assets/", "/media/private/"]
    for role in ROLES_CLOSED:
        pk = library.ids[role]
        for name in NAMES:
            paths += [
                f"/media/public/assets/{pk}/{name}",
                f"/media/public/renditions/{pk}/{name}",
                f"/media/private/renditions/{pk}/{name}",
                f"/media/private/assets/{pk}/{name}",
                f"/previews/videos/{pk}/{name}",
                *(f"/media/public/v/{key}/{name}" for key in library.keys[role]),
            ]
        paths += [f"/media/private/{library.sources[role]}", f"/media/{library.sources[role]}"]
    return paths


def open_paths(library: Library) -> dict[str, bytes]:
    """The approved video's public URLs and their expected bytes."""
    (key,) = library.keys["approved"]
    return {f"/media/public/v/{key}/{name}": library.files["approved"][name] for name in NAMES}


def _check_closed(status: int, location: str, body: bytes, secrets: set[str], path: str) -> None:
    to_login = status == 302 and location.startswith("/comptes/login/")
    assert status in (403, 404) or to_login, f"{path} answered {status}"
    assert _digest(body) not in secrets, path


@pytest.mark.django_db
def test_public_storage_holds_no_byte_of_a_pending_rejected_or_deleted_video(
    library: Library,
) -> None:
    secrets = _secret_digests(library)
    assert len(secrets) >= 3 * 2  # segments and posters of three other pictures
    secrets |= {_digest(_read_original(library, role)) for role in ("pending", "rejected")}
    public_root = Path(django_settings.MEDIA_ROOT) / "public"
    public_files = [path for path in public_root.rglob("*") if path.is_file()]
    leaked = [path for path in public_files if _digest(path.read_bytes()) in secrets]
    assert not leaked
    (key,) = library.keys["approved"]
    assert {p.relative_to(public_root).as_posix() for p in public_files} >= {
        f"v/{key}/{name}" for name in NAMES
    }


def _read_original(library: Library, role: str) -> bytes:
    with private_storage().open(library.sources[role], "rb") as handle:
        data: bytes = handle.read()
        return data


@pytest.mark.django_db
def test_public_keys_are_random_and_taken_down_with_the_video(library: Library) -> None:
    (key,) = library.keys["approved"]
    # >= 128 bits in URL-safe base64 (a digit of the id may appear in it by chance: ids are
    # small in a fresh database, so only the whole id is looked for)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", key) and key != str(library.ids["approved"])
    assert library.keys["rejected"] and library.keys["deleted"]  # they were published once
    assert Asset.objects.get(pk=library.ids["rejected"]).public_key is None
    assert Asset.objects.get(pk=library.ids["pending"]).public_key is None
    assert key not in library.keys["rejected"] | library.keys["deleted"]


@pytest.mark.django_db
def test_deleting_a_video_deletes_its_original_renditions_copies_and_work_files(
    library: Library,
) -> None:
    pk = library.ids["deleted"]
    media = Path(django_settings.MEDIA_ROOT)
    assert not private_storage().exists(library.sources["deleted"])
    remaining = [
        path
        for path in media.rglob("*")
        if path.is_file() and _digest(path.read_bytes()) in _secret_digests(library)
        and f"/{pk}/" in path.as_posix()
    ]  # fmt: skip
    assert not remaining
    for key in library.keys["deleted"]:
        assert not (media / "public" / "v" / key).exists()
    assert not (Path(django_settings.CARILLON_WORK_DIR) / f"asset-{pk}").exists()


@pytest.mark.django_db
@pytest.mark.urls("tests.broadcasting.media.test_privacy")
def test_django_serves_no_byte_of_them_without_login(library: Library, client: Client) -> None:
    secrets = _secret_digests(library)
    for path in closed_paths(library):
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        _check_closed(response.status_code, response.get("Location", ""), body, secrets, path)
    for path, expected in open_paths(library).items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"".join(response.streaming_content) == expected, path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def nginx_serving(*, media_root: Path, web_port: int, var: Path) -> Iterator[str]:
    """A real nginx with ``make run``'s configuration (``scripts/nginx-conf.sh``) on a free
    port, serving ``media_root`` and passing the rest to ``web_port``; yields its base URL."""
    port = _free_port()
    environment = {
        **os.environ,
        "CARILLON_PORT": str(port),
        "CARILLON_WEB_PORT": str(web_port),
        "CARILLON_VAR": str(var),
        "CARILLON_MEDIA_ROOT": str(media_root),
    }
    generated = subprocess.run(
        [str(ROOT / "scripts" / "nginx-conf.sh")], env=environment,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    (var / "nginx").mkdir(parents=True, exist_ok=True)
    conf = var / "nginx" / "nginx.conf"
    conf.write_text(generated.stdout)
    with (var / "nginx.log").open("wb") as log:
        process = subprocess.Popen(
            ["nginx", "-p", str(var / "nginx"), "-c", str(conf), "-g", "daemon off;"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert process.poll() is None, "nginx exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nginx did not listen on {port}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_nginx_serves_no_byte_of_them_without_login(
    make_clip: MakeClip,
    cached_media_builds: None,
    small_ladder: None,
    publish_inline: None,
    django_capture_on_commit_callbacks: OnCommit,
    live_server: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    library = _build_library(make_clip, Client(), django_capture_on_commit_callbacks)
    secrets = _secret_digests(library)
    web_port = int(live_server.url.rsplit(":", 1)[1])
    media_root = Path(settings.MEDIA_ROOT)
    with nginx_serving(media_root=media_root, web_port=web_port, var=tmp_path / "var") as base:
        for path in closed_paths(library):
            response = requests.get(f"{base}{path}", allow_redirects=False, timeout=10)
            location = re.sub(r"^https?://[^/]+", "", response.headers.get("Location", ""))
            _check_closed(response.status_code, location, response.content, secrets, path)
        for path, expected in open_paths(library).items():
            response = requests.get(f"{base}{path}", timeout=10)
            assert response.status_code == 200, path
            assert response.content == expected, path


@pytest.mark.django_db
def test_now_schedule_and_xmltv_name_public_keys_only(library: Library, client: Client) -> None:
    approved = Asset.objects.get(pk=library.ids["approved"])
    now = timezone.now()
    ScheduledItemFactory(
        asset=approved, start=now - dt.timedelta(minutes=1), end=now + dt.timedelta(minutes=5)
    )
    (key,) = library.keys["approved"]
    on_air = client.get(f"/api/v1/channels/{SLUG}/now").json()["now"]
    assert "asset_id" not in on_air
    assert on_air["video"] == key
    assert on_air["poster"] == f"{django_settings.PUBLIC_MEDIA_URL}v/{key}/poster.jpg"
    answers = [
        client.get(f"/api/v1/channels/{SLUG}/now").content,
        client.get(f"/api/v1/channels/{SLUG}/schedule").content,
        client.get("/iptv/epg.xml").content,
    ]
    for body in answers:
        text = body.decode()
        assert f"v/{key}/poster.jpg" in text
        assert not re.search(r"asset_id|/assets/\d|renditions/", text), text[:300]


@pytest.fixture
def on_air(tmp_path: Path) -> Channel:
    """A 360p channel airing its slate: a real encode, stored as the transcode stores it."""
    out_dir = encoded_clip(clips.four_by_three, (4.0,), SPEC, tmp_path / "encoded")
    count = len(list((out_dir / RUNG.name).glob("seg_*.ts")))
    fmt = ChannelFormat.objects.create(name="privacy 360p", rungs=[asdict(RUNG)])
    slate = cast(Asset, ReadyAssetFactory(channel_format=fmt, kind="slate", segment_count=count))
    prefix = asset_prefix(slate.pk)
    store_renditions(directory=out_dir, prefix=prefix)
    Rendition.objects.create(
        asset=slate, name=RUNG.name, width=RUNG.width, height=RUNG.height, bandwidth=1,
        average_bandwidth=1, codecs="", playlist=f"{prefix}/{RUNG.name}/index.m3u8",
        segment_prefix=f"{prefix}/{RUNG.name}/", segment_count=count,
    )  # fmt: skip
    return Channel.objects.create(
        name="Privée", slug="privacy", number=991, channel_format=fmt, slate=slate, epoch=EPOCH
    )


@pytest.mark.django_db
def test_the_live_output_names_no_asset_and_keeps_its_index_private(on_air: Channel) -> None:
    channel = Channel.objects.select_related("channel_format", "slate").get(pk=on_air.pk)
    now = segment_start(1_000_000, epoch=EPOCH, segment_ms=SPEC.segment_ms)
    report = publish_window(channel=channel, now=now)
    assert report.published and not report.unfilled
    prefix = live_prefix(channel.slug)
    public_root = Path(public_storage().path(prefix))
    published = [path for path in public_root.rglob("*") if path.is_file()]
    assert {path.suffix for path in published} == {".m3u8", ".ts"}
    for path in published:
        if path.suffix == ".m3u8":
            assert not re.search(r"assets|renditions|/\d+/", path.read_text()), path
    with private_storage().open(f"{prefix}/{RUNG.name}/index.json", "rb") as handle:
        index = json.loads(handle.read())
    assert index and all(private_storage().exists(e["source"]) for e in index.values())
    assert not public_storage().exists(f"{prefix}/{RUNG.name}/index.json")
