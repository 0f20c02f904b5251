"""Celery entry points of the city data app: thin, they take ids and call a service."""

import logging

from celery import shared_task
from kombu.exceptions import OperationalError

from city_feeds import services
from city_feeds.fetch import FetchError
from city_feeds.models import FeedSource

logger = logging.getLogger(__name__)

POLL_RETRIES = 2


@shared_task(ignore_result=True)
def feeds_poll() -> int:
    """Beat, every 30 s: enqueue a poll of each enabled source that is due (claimed first, so
    a source is enqueued once per interval whatever the number of beats)."""
    enqueued = 0
    for source_id in services.sources_due_claim():
        try:
            source_poll.delay(source_id)
        except OperationalError:  # the broker is away: the next interval polls it
            logger.warning("poll not enqueued source_id=%s (broker away)", source_id)
            continue
        enqueued += 1
    return enqueued


@shared_task(
    bind=True,
    autoretry_for=(FetchError,),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=POLL_RETRIES,
    ignore_result=True,
)
def source_poll(self, source_id: int) -> int | None:  # type: ignore[no-untyped-def]
    """Fetch and ingest one source. A network error or a 5xx is tried again with backoff and
    recorded on the source's health only once the retries are spent (one failed poll counts
    once); a payload the adapter refuses is recorded at once, never retried."""
    source = FeedSource.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return None
    last_try = self.request.retries >= POLL_RETRIES
    result = services.source_poll(source=source, record_transient=last_try)
    return None if result is None else result.total


@shared_task(ignore_result=True)
def items_expire() -> int:
    """Beat: delete items long expired (they stopped airing at their expiry) and the nonces
    of signed pushes too old to be replayed anyway."""
    services.push_nonces_prune()
    return services.items_expire()
