"""Override notices over the real Redis: an override started or ended reaches the playout's
planner at once; without Redis nothing fails (the change airs from the planner's next reading)."""

import queue
import time
from typing import cast

import pytest
from django.conf import LazySettings

from broadcasting.live.notices import (
    NoticeListener,
    notice_channel,
    overrides_changed_announce,
    parse_notice,
)
from broadcasting.live.overrides import override_end, override_start
from playlists.models import Channel
from tests.factories import ReadyAssetFactory, default_channel

NOBODY = "redis://127.0.0.1:1/0"  # no Redis listens there


def _listening(url: str | None = None) -> tuple[NoticeListener, "queue.Queue[int | None]"]:
    heard: queue.Queue[int | None] = queue.Queue()
    listener = NoticeListener(heard.put, url=url).start()
    return listener, heard


def test_an_announced_change_reaches_the_listener() -> None:
    listener, heard = _listening()
    try:
        assert listener.subscribed.wait(5)
        assert heard.get(timeout=5) is None  # on subscribing: every plan, notices may be lost
        overrides_changed_announce(42)
        assert heard.get(timeout=5) == 42
    finally:
        listener.stop()


def test_each_redis_database_has_its_own_notices() -> None:
    assert notice_channel("redis://cache:6379/3") != notice_channel("redis://cache:6379/4")
    assert notice_channel("redis://cache:6379") == notice_channel("redis://cache:6379/0")
    assert parse_notice(b"17") == 17
    assert parse_notice(b"17; FLUSHALL") is None and parse_notice(b"-1") is None


def test_without_redis_nothing_fails_and_the_listener_waits(
    settings: LazySettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.REDIS_URL = NOBODY
    started = time.monotonic()
    overrides_changed_announce(7)  # refused at once, logged, not raised
    assert time.monotonic() - started < 2
    assert "override notice not sent" in caplog.text
    listener, heard = _listening(NOBODY)
    try:
        assert not listener.subscribed.wait(0.5)
        assert heard.empty()
    finally:
        listener.stop()
    assert not listener._thread.is_alive()


@pytest.mark.django_db
def test_starting_and_ending_an_override_announce_it_once_committed(
    django_capture_on_commit_callbacks: object,
) -> None:
    channel = cast(Channel, default_channel())
    clip = ReadyAssetFactory(title="Alerte", segment_count=1, channel_format=channel.channel_format)
    listener, heard = _listening()
    try:
        assert listener.subscribed.wait(5) and heard.get(timeout=5) is None
        with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
            override = override_start(channel=channel, asset=clip, reason="alert")
        assert heard.empty()  # nothing before the commit
        for callback in callbacks:
            callback()
        assert heard.get(timeout=5) == channel.pk
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            override_end(override=override)
        assert heard.get(timeout=5) == channel.pk
    finally:
        listener.stop()
