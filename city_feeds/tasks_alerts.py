"""The alerts' tasks: entry points that load by id and call one service (``city_feeds.alerts``).

``alert_card_build_task`` and ``alert_clips_build_task`` run ffmpeg for seconds: they belong on
the ``cards`` queue, whose worker no transcode delays. ``alerts_tick_task`` is beat's round
(expiry, ready cards, repeats): cheap, on the default queue.
"""

from celery import shared_task

from broadcasting.models import ChannelFormat
from city_feeds.alert_clips import alert_clips_ensure
from city_feeds.alerts import alert_card_build, alerts_tick


@shared_task(ignore_result=True)
def alert_card_build_task(alert_id: int) -> None:
    alert_card_build(alert_id=alert_id)


@shared_task(ignore_result=True)
def alert_clips_build_task(channel_format_id: int) -> None:
    alert_clips_ensure(channel_format=ChannelFormat.objects.get(pk=channel_format_id))


@shared_task(ignore_result=True)
def alerts_tick_task() -> int:
    return alerts_tick()
