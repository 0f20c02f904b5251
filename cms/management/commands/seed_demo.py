"""Seed the demo content of a local installation. Idempotent: run it as often as you like."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from broadcasting.demo import demo_library_ensure
from city_feeds.demo import (
    channel_area_ensure,
    demo_feeds_replay,
    demo_sources_ensure,
    map_background_ensure,
)
from city_feeds.tasks_alerts import alert_clips_build_task
from cms.demo import demo_post_ensure, home_page_ensure
from playlists.demo import demo_programming_ensure


class Command(BaseCommand):
    help = (
        "Create the demo content: home page and site, demo videos (an ident, a slate), the demo "
        "city data sources. Idempotent."
    )

    def handle(self, *args: object, **options: object) -> None:
        home = home_page_ensure()
        self.stdout.write(f"Home page: {home.title} (id {home.pk})")
        editor = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        if editor is None:
            raise CommandError(
                "Create an administrator first (python manage.py create_demo_admin)."
            )
        assets = demo_library_ensure(editor=editor)
        for asset in assets:
            self.stdout.write(f"Demo video {asset.pk}: {asset.title} ({asset.get_state_display()})")
        channel = demo_programming_ensure(assets=assets)
        self.stdout.write(f"Channel {channel}: {channel.blocks.count()} blocks")
        channel_area_ensure(channel=channel)
        map_background_ensure()
        sources = demo_sources_ensure()
        stored = demo_feeds_replay()
        self.stdout.write(f"City data: {len(sources)} demo sources, {stored} items")
        post = demo_post_ensure(editor=editor)
        self.stdout.write(f"Resident's post {post.pk}: {post.title} ({post.get_state_display()})")
        # The generic alert clips (one per category): made by the cards worker, not here.
        try:
            alert_clips_build_task.delay(channel.channel_format_id)
        except (BrokerError, RedisError) as err:
            self.stderr.write(
                f"Alert clips not requested (broker away: {err}); run build_alert_clips."
            )
