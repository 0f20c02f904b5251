"""The tus 1.0 endpoint (``/api/v1/uploads/``) with a real tus client (tuspy) against a live
server, the hand-over of finished uploads to the media pipeline on a real clip, and expiry."""

import datetime as dt
import fcntl
import io
import os
import socket
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError

from broadcasting.media.storage import private_storage
from broadcasting.models import Asset, AssetOrigin
from cms import tasks, tus
from cms.models import SubmissionState, Upload, UploadState, VideoSubmission
from cms.services.uploads import (
    UploadRefused,
    upload_append,
    upload_create,
    upload_hand_over,
    upload_path,
)
from tests.broadcasting import clips
from tests.factories import EditorFactory, UserFactory

LIVE = pytest.mark.django_db(transaction=True, serialized_rollback=True)
KIB = 1024


@pytest.fixture(autouse=True)
def _upload_dir(settings: Any, tmp_path: Path) -> None:
    settings.CARILLON_UPLOAD_DIR = tmp_path / "uploads"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]


def french(message: str) -> str:
    """What the endpoint answers (its paths have no language prefix: always French)."""
    with translation.override("fr"):
        return gettext(message)


def submission_of(user: User, state: str = SubmissionState.AWAITING_UPLOAD) -> VideoSubmission:
    return VideoSubmission.objects.create(
        submitter=user,
        title="Le marché de la place Billard",
        description="Samedi matin.",
        category_id="culture",
        state=state,
        charter_version="2025-1",
        consented_at=timezone.now(),
    )


def session_headers(user: User) -> dict[str, str]:
    """What a signed-in browser sends: its session and CSRF cookies, and the token as
    ``X-CSRFToken`` (as Uppy does)."""
    client = Client()
    client.force_login(user)
    token = get_random_string(32)
    cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={token}"
    return {
        "Cookie": cookie,
        "X-CSRFToken": token,
        "Tus-Resumable": tus.TUS_VERSION,
    }


def metadata_of(submission: VideoSubmission, filename: str = "marche.mp4") -> dict[str, str]:
    return {"filename": filename, "submission": str(submission.pk)}


def create(base: str, headers: dict[str, str], length: int, meta: dict[str, str]) -> Any:
    encoded = tus.encode_metadata(meta)
    return requests.post(
        f"{base}/api/v1/uploads/",
        headers={**headers, "Upload-Length": str(length), "Upload-Metadata": encoded},
        timeout=10,
    )


def patch(url: str, headers: dict[str, str], offset: int, body: bytes) -> Any:
    patch_headers = {
        **headers,
        "Upload-Offset": str(offset),
        "Content-Type": tus.OFFSET_CONTENT_TYPE,
    }
    return requests.patch(url, headers=patch_headers, data=body, timeout=10)


def upload_of(response: Any) -> Upload:
    return Upload.objects.get(pk=urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1])


class Dropped:
    """A PATCH whose client sends its headers and part of its body, then waits (``hold``) or
    goes away (``drop``): a phone losing its connection mid-chunk."""

    def __init__(self, url: str, headers: dict[str, str], offset: int, declared: int) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        lines = [f"PATCH {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += [
            f"Upload-Offset: {offset}",
            f"Content-Type: {tus.OFFSET_CONTENT_TYPE}",
            f"Content-Length: {declared}",
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send(self, body: bytes) -> None:
        self.sock.sendall(body)

    def status(self) -> int:
        return int(self.sock.recv(4096).split(b" ", 2)[1])

    def drop(self) -> None:
        self.sock.close()


def is_locked(path: Path) -> bool:
    with path.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def wait_until(check: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def resident() -> User:
    return UserFactory(username="resident")  # type: ignore[return-value]


@pytest.fixture
def video_bytes(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "phone.mp4"
    path.write_bytes(os.urandom(3 * 1024 * KIB + 123))
    yield path


# --- The protocol, against a live server --------------------------------------------------------


@LIVE
def test_upload_dropped_half_way_resumes_to_a_byte_identical_file(
    live_server: Any, resident: User, video_bytes: Path
) -> None:
    submission = submission_of(resident)
    headers = session_headers(resident)
    client = TusClient(f"{live_server.url}/api/v1/uploads/", headers=headers)
    size = video_bytes.stat().st_size
    first = client.uploader(
        file_path=str(video_bytes), chunk_size=256 * KIB, metadata=metadata_of(submission)
    )
    first.upload(stop_at=size // 2)
    half = first.offset
    assert size // 2 <= half < size

    # The connection drops in the middle of the next chunk: what arrived is kept.
    dropped = Dropped(first.url, headers, half, declared=256 * KIB)
    dropped.send(video_bytes.read_bytes()[half : half + 100 * KIB])
    dropped.drop()
    upload = Upload.objects.get(pk=first.url.rsplit("/", 1)[1])
    wait_until(lambda: Upload.objects.get(pk=upload.pk).offset == half + 100 * KIB, "partial")

    # A new client (the page opened again) resumes from the server's offset (HEAD).
    again = client.uploader(file_path=str(video_bytes), chunk_size=256 * KIB, url=first.url)
    assert again.offset == half + 100 * KIB
    again.upload()

    upload.refresh_from_db()
    assert (upload.state, upload.offset, upload.length) == (UploadState.COMPLETE, size, size)
    assert upload.filename == "marche.mp4" and upload.submission == submission
    assert upload_path(upload_id=upload.pk).read_bytes() == video_bytes.read_bytes()


@LIVE
def test_head_reports_offset_length_metadata_and_expiry(live_server: Any, resident: User) -> None:
    headers = session_headers(resident)
    meta = metadata_of(submission_of(resident), filename="été à Chartres.mov")
    created = create(live_server.url, headers, 1000, meta)
    assert created.status_code == 201
    assert created.headers["Tus-Resumable"] == "1.0.0"
    url = f"{live_server.url}{created.headers['Location']}"
    assert patch(url, headers, 0, b"x" * 400).headers["Upload-Offset"] == "400"

    head = requests.head(url, headers=headers, timeout=10)
    assert head.status_code == 200
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("400", "1000")
    assert head.headers["Cache-Control"] == "no-store"
    assert head.headers["Tus-Resumable"] == "1.0.0"
    assert tus.parse_metadata(head.headers["Upload-Metadata"]) == meta
    left = parsedate_to_datetime(head.headers["Upload-Expires"]) - timezone.now()
    assert dt.timedelta(hours=23) < left <= dt.timedelta(hours=24)


@LIVE
def test_options_announces_version_extensions_and_max_size(live_server: Any, settings: Any) -> None:
    answer = requests.options(f"{live_server.url}/api/v1/uploads/", timeout=10)
    assert answer.status_code == 204
    assert answer.headers["Tus-Version"] == "1.0.0"
    assert answer.headers["Tus-Resumable"] == "1.0.0"
    assert answer.headers["Tus-Extension"] == "creation,termination,expiration"
    assert answer.headers["Tus-Max-Size"] == str(settings.CARILLON_UPLOAD_MAX_BYTES)


@LIVE
def test_patch_at_a_wrong_offset_gets_409_and_changes_nothing(
    live_server: Any, resident: User
) -> None:
    headers = session_headers(resident)
    created = create(live_server.url, headers, 100 * KIB, metadata_of(submission_of(resident)))
    url = f"{live_server.url}{created.headers['Location']}"
    assert patch(url, headers, 0, b"a" * KIB).status_code == 204

    for offset in (0, 2 * KIB):
        refused = patch(url, headers, offset, b"b" * KIB)
        assert refused.status_code == 409
        assert refused.headers["Tus-Resumable"] == "1.0.0"
    upload = upload_of(created)
    assert upload.offset == KIB
    assert upload_path(upload_id=upload.pk).read_bytes() == b"a" * KIB


@LIVE
def test_a_second_patch_while_one_is_writing_is_refused_and_only_one_counts(
    live_server: Any, resident: User
) -> None:
    headers = session_headers(resident)
    created = create(live_server.url, headers, 64 * KIB, metadata_of(submission_of(resident)))
    url = f"{live_server.url}{created.headers['Location']}"
    upload = upload_of(created)
    slow = Dropped(url, headers, 0, declared=32 * KIB)
    slow.send(b"1" * KIB)
    wait_until(lambda: is_locked(upload_path(upload_id=upload.pk)), "the first writer's lock")

    busy = patch(url, headers, 0, b"2" * 32 * KIB)
    assert busy.status_code == 423  # locked: tus clients (tus-js-client) retry after a HEAD
    slow.send(b"1" * 31 * KIB)
    assert slow.status() == 204
    slow.drop()

    late = patch(url, headers, 0, b"2" * 32 * KIB)
    assert late.status_code == 409
    upload.refresh_from_db()
    assert upload.offset == 32 * KIB
    assert upload_path(upload_id=upload.pk).read_bytes() == b"1" * 32 * KIB


@LIVE
def test_another_resident_gets_404_and_cannot_touch_the_upload(
    live_server: Any, resident: User
) -> None:
    headers = session_headers(resident)
    created = create(live_server.url, headers, 10 * KIB, metadata_of(submission_of(resident)))
    url = f"{live_server.url}{created.headers['Location']}"
    assert patch(url, headers, 0, b"m" * KIB).status_code == 204
    other = session_headers(UserFactory(username="neighbour"))  # type: ignore[arg-type]

    assert requests.head(url, headers=other, timeout=10).status_code == 404
    assert patch(url, other, KIB, b"x" * KIB).status_code == 404
    assert requests.delete(url, headers=other, timeout=10).status_code == 404
    upload = upload_of(created)
    assert (upload.offset, upload.state) == (KIB, UploadState.RECEIVING)

    assert requests.delete(url, headers=headers, timeout=10).status_code == 204
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert not upload_path(upload_id=upload.pk).exists()
    assert requests.head(url, headers=headers, timeout=10).status_code == 404


@LIVE
def test_anonymous_wrong_version_and_missing_csrf_are_refused(
    live_server: Any, resident: User
) -> None:
    meta = metadata_of(submission_of(resident))
    anonymous = create(live_server.url, {"Tus-Resumable": "1.0.0"}, 10, meta)
    assert anonymous.status_code == 401
    assert anonymous.headers["Tus-Resumable"] == "1.0.0"

    headers = session_headers(resident)
    old = create(live_server.url, {**headers, "Tus-Resumable": "0.2.2"}, 10, meta)
    assert old.status_code == 412
    assert old.headers["Tus-Version"] == "1.0.0"

    no_token = {k: v for k, v in headers.items() if k != "X-CSRFToken"}
    forged = create(live_server.url, no_token, 10, meta)
    assert forged.status_code == 403
    assert forged.headers["Tus-Resumable"] == "1.0.0"
    assert not Upload.objects.exists()
    with pytest.raises(TusCommunicationError):
        TusClient(f"{live_server.url}/api/v1/uploads/").uploader(
            file_path=__file__, metadata=meta
        ).upload()


@LIVE
def test_declared_length_over_the_limit_or_the_quota_gets_413(
    live_server: Any, resident: User, settings: Any
) -> None:
    settings.CARILLON_UPLOAD_MAX_BYTES = 10 * KIB
    settings.CARILLON_UPLOAD_QUOTA_BYTES = 8 * KIB
    headers = session_headers(resident)
    meta = metadata_of(submission_of(resident))
    too_big = create(live_server.url, headers, 10 * KIB + 1, meta)
    assert too_big.status_code == 413
    assert too_big.text == french("The file is larger than the maximum size allowed.")
    assert create(live_server.url, headers, 6 * KIB, meta).status_code == 201
    over_quota = create(live_server.url, headers, 3 * KIB, meta)
    assert over_quota.status_code == 413
    assert over_quota.text == french(
        "You have sent too much video today: wait until tomorrow, or let your unfinished "
        "uploads expire, before sending this file."
    )
    assert Upload.objects.count() == 1

    editor = EditorFactory(username="editor")
    city = {"filename": "voeux.mp4", "title": "Vœux du maire", "kind": "ident"}
    for _ in range(2):  # editors have no quota (the size limit still holds)
        assert create(live_server.url, session_headers(editor), 6 * KIB, city).status_code == 201


@LIVE
def test_a_body_over_the_chunk_cap_or_past_the_length_gets_413(
    live_server: Any, resident: User, settings: Any
) -> None:
    settings.CARILLON_UPLOAD_CHUNK_BYTES = 64 * KIB
    headers = session_headers(resident)
    created = create(live_server.url, headers, 200 * KIB, metadata_of(submission_of(resident)))
    url = f"{live_server.url}{created.headers['Location']}"
    assert patch(url, headers, 0, b"z" * (64 * KIB + 1)).status_code == 413
    assert patch(url, headers, 0, b"z" * 64 * KIB).status_code == 204
    assert patch(url, headers, 64 * KIB, b"z" * 64 * KIB).status_code == 204
    assert patch(url, headers, 128 * KIB, b"z" * 64 * KIB).status_code == 204
    assert patch(url, headers, 192 * KIB, b"z" * (8 * KIB + 1)).status_code == 413
    upload = upload_of(created)
    assert (upload.offset, upload.state) == (192 * KIB, UploadState.RECEIVING)
    assert upload_path(upload_id=upload.pk).stat().st_size == 192 * KIB


@LIVE
def test_the_submission_must_be_the_residents_own_and_waiting_for_a_file(
    live_server: Any, resident: User
) -> None:
    headers = session_headers(resident)
    neighbours = submission_of(UserFactory(username="neighbour"))  # type: ignore[arg-type]
    approved = submission_of(resident, state=SubmissionState.APPROVED)
    fixing = submission_of(resident, state=SubmissionState.CHANGES_REQUESTED)
    cases = [
        ({"filename": "a.mp4"}, 400, "The upload does not say which submission it belongs to."),
        (
            {"filename": "a.mp4", "submission": "x1"},
            400,
            "The submission of this upload is not valid.",
        ),
        (metadata_of(neighbours), 403, "This submission is not one of yours."),
        (metadata_of(approved), 403, "This submission is not waiting for a video file."),
        ({"submission": str(fixing.pk)}, 400, "The upload does not give the file's name."),
    ]
    for meta, status, message in cases:
        answer = create(live_server.url, headers, 10, meta)
        assert (answer.status_code, answer.text) == (status, french(message)), meta
    assert create(live_server.url, headers, 10, metadata_of(fixing)).status_code == 201
    assert Upload.objects.get().submission == fixing


# --- Hand-over to the media pipeline ------------------------------------------------------------


def complete_upload(owner: User, source: Path, meta: dict[str, str]) -> Upload:
    data = source.read_bytes()
    upload = upload_create(owner=owner, length=len(data), metadata=meta)
    half = len(data) // 2
    upload_append(upload=upload, offset=0, pieces=[data[:half]])
    return upload_append(upload=upload, offset=half, pieces=[data[half:]])


@pytest.mark.django_db
def test_hand_over_creates_the_asset_linked_to_the_submission(
    resident: User, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    clip = clips.mono(tmp_path, seconds=2.0)
    submission = submission_of(resident)
    upload = complete_upload(resident, clip, metadata_of(submission, filename="IMG_0042.MP4"))
    assert upload.state == UploadState.COMPLETE

    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_hand_over(upload=upload)

    assert upload.state == UploadState.HANDED_OVER
    submission.refresh_from_db()
    asset = Asset.objects.get(pk=submission.asset_id)
    assert (asset.title, asset.description) == (submission.title, submission.description)
    assert (asset.origin, asset.kind, asset.owner) == (AssetOrigin.RESIDENT, "programme", resident)
    assert asset.original_filename == "IMG_0042.MP4"
    assert asset.jobs.count() == 1
    with private_storage().open(asset.source, "rb") as stored:
        assert stored.read() == clip.read_bytes()
    assert submission.state == SubmissionState.AWAITING_REVIEW
    assert not upload_path(upload_id=upload.pk).exists()
    assert upload_hand_over(upload=upload).state == UploadState.HANDED_OVER  # a re-run: nothing
    assert Asset.objects.count() == 1


@pytest.mark.django_db
def test_a_file_that_is_not_a_video_fails_the_upload_with_its_reason(
    resident: User, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    fake = tmp_path / "vacances.mp4"
    fake.write_text("Ceci n'est pas une vidéo.\n" * 200)
    submission = submission_of(resident)
    upload = complete_upload(resident, fake, metadata_of(submission, filename="vacances.mp4"))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.upload_hand_over(str(upload.pk)) == UploadState.FAILED
    upload.refresh_from_db()

    assert upload.state == UploadState.FAILED
    assert upload.failure == "This file is not a video in a format we accept."
    submission.refresh_from_db()
    assert (submission.state, submission.asset) == (SubmissionState.AWAITING_UPLOAD, None)
    assert not Asset.objects.exists()
    assert not upload_path(upload_id=upload.pk).exists()
    # Nothing is lost: the resident sends another file for the same submission.
    assert upload_create(owner=resident, length=10, metadata=metadata_of(submission))


@pytest.mark.django_db
def test_a_second_upload_of_a_submission_already_handed_over_fails(
    resident: User, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    clip = clips.mono(tmp_path, seconds=1.0)
    submission = submission_of(resident)
    first = complete_upload(resident, clip, metadata_of(submission))
    second = complete_upload(resident, clip, metadata_of(submission))
    with django_capture_on_commit_callbacks(execute=True):
        assert upload_hand_over(upload=first).state == UploadState.HANDED_OVER
        assert upload_hand_over(upload=second).state == UploadState.FAILED
    assert "not waiting for a video file" in Upload.objects.get(pk=second.pk).failure
    assert Asset.objects.count() == 1


# --- Expiry and the services' own checks --------------------------------------------------------


@pytest.mark.django_db
def test_unfinished_uploads_expire_with_their_files(resident: User) -> None:
    submission = submission_of(resident)
    stale = upload_create(owner=resident, length=100, metadata=metadata_of(submission))
    upload_append(upload=stale, offset=0, pieces=[b"s" * 40])
    fresh = upload_create(owner=resident, length=100, metadata=metadata_of(submission))
    Upload.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    assert tasks.expire_uploads() == 1

    stale.refresh_from_db()
    assert stale.state == UploadState.EXPIRED
    assert not upload_path(upload_id=stale.pk).exists()
    assert Upload.objects.get(pk=fresh.pk).state == UploadState.RECEIVING
    assert upload_path(upload_id=fresh.pk).exists()
    with pytest.raises(UploadRefused) as refused:
        upload_append(upload=stale, offset=40, pieces=[b"late"])
    assert refused.value.status == 410


@pytest.mark.django_db
def test_the_file_is_named_by_the_upload_id_never_by_the_client(
    resident: User, settings: Any
) -> None:
    meta = metadata_of(submission_of(resident), filename="../../etc/passwd.mp4")
    upload = upload_create(owner=resident, length=10, metadata=meta)
    assert upload.filename == "passwd.mp4"
    assert list(Path(settings.CARILLON_UPLOAD_DIR).iterdir()) == [
        Path(settings.CARILLON_UPLOAD_DIR) / f"{upload.pk.hex}.part"
    ]


# --- The protocol's pure parts ------------------------------------------------------------------


def test_metadata_round_trips_and_keys_alone_mean_empty_values() -> None:
    meta = {"filename": "fête de la musique.mp4", "submission": "12", "empty": ""}
    header = tus.encode_metadata(meta)
    assert header.endswith(",empty")
    assert tus.parse_metadata(header) == meta
    assert tus.parse_metadata("") == {}


@pytest.mark.parametrize(
    "header",
    [
        "filename !!!",
        "filename ZmlsZQ==,filename ZmlsZQ==",
        "bad key ZmlsZQ==",
        "x /w==",
        "a" * 5000,
    ],
)
def test_malformed_metadata_is_a_400(header: str) -> None:
    with pytest.raises(tus.TusError) as refused:
        tus.parse_metadata(header)
    assert refused.value.status == 400


@pytest.mark.parametrize("value", [None, "", "-1", "1.5", "12a", "1" * 20])
def test_sizes_must_be_plain_non_negative_integers(value: str | None) -> None:
    with pytest.raises(tus.TusError):
        tus.parse_size(value, header="Upload-Length")


@pytest.mark.parametrize(
    ("offset", "expected", "body", "cap", "status"),
    [(10, 0, 5, 1000, 409), (0, 0, 51, 50, 413), (90, 90, 11, 1000, 413)],
)
def test_append_is_refused_at_a_wrong_offset_over_the_cap_or_past_the_length(
    offset: int, expected: int, body: int, cap: int, status: int
) -> None:
    with pytest.raises(tus.TusError) as refused:
        tus.check_append(offset=offset, expected=expected, body_bytes=body, length=100, cap=cap)
    assert refused.value.status == status
    tus.check_append(
        offset=expected, expected=expected, body_bytes=100 - expected, length=100, cap=100
    )


def test_read_chunks_stops_at_the_length_or_when_the_client_is_gone() -> None:
    assert list(tus.read_chunks(io.BytesIO(b"abcdefgh"), 5, size=2)) == [b"ab", b"cd", b"e"]
    assert b"".join(tus.read_chunks(io.BytesIO(b"abc"), 10, size=2)) == b"abc"
