"""The demo's replayer (``make run`` only: beat sends it when ``CARILLON_DEMO_FEEDS`` is on)."""

from celery import shared_task

from city_feeds.demo import demo_feeds_replay


@shared_task(name="city_feeds.tasks_demo.demo_feeds_replay", ignore_result=True)
def replay_demo_feeds() -> int:
    return demo_feeds_replay()
