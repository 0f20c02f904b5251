"""Seed the demo content of a local installation. Idempotent: run it as often as you like."""

from django.core.management.base import BaseCommand

from cms.demo import home_page_ensure


class Command(BaseCommand):
    help = "Create the demo content (home page and site; more as the apps grow). Idempotent."

    def handle(self, *args: object, **options: object) -> None:
        home = home_page_ensure()
        self.stdout.write(f"Home page: {home.title} (id {home.pk})")
