"""Retention of the programming app: what the hourly clean-up deletes (``retention_apply``).

- The as-run log, after ``CARILLON_AS_RUN_RETENTION_DAYS`` (a year by default): it is the
  record of what aired, kept for the authorities and the editors' exports.
- Scheduled items that ended more than ``CARILLON_SCHEDULE_RETENTION_DAYS`` ago (a week): the
  as-run log records what aired, their entries keep everything but the link to the item. Never
  less than the history the builder reads (``services.HISTORY``).
- Schedule versions beyond the latest ``CARILLON_SCHEDULE_VERSIONS_KEPT`` of each channel that no
  scheduled item points at any more (an item's version is never deleted under it).
"""

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from playlists.models import AsRunEntry, Channel, ScheduledItem, ScheduleVersion
from playlists.services import HISTORY

logger = logging.getLogger(__name__)
BATCH = 5000  # rows deleted per statement: a first clean-up of a long history stays bounded


@dataclass(frozen=True)
class RetentionReport:
    as_run_entries: int
    scheduled_items: int
    schedule_versions: int


def retention_apply(*, now: dt.datetime | None = None) -> RetentionReport:
    """Delete what the retention settings no longer keep (idempotent; beat, every hour)."""
    now = now or timezone.now()
    as_run_days = dt.timedelta(days=settings.CARILLON_AS_RUN_RETENTION_DAYS)
    items_days = dt.timedelta(days=settings.CARILLON_SCHEDULE_RETENTION_DAYS)
    report = RetentionReport(
        as_run_entries=as_run_prune(before=now - as_run_days),
        scheduled_items=scheduled_items_prune(before=now - max(items_days, HISTORY)),
        schedule_versions=schedule_versions_prune(keep=settings.CARILLON_SCHEDULE_VERSIONS_KEPT),
    )
    if report.as_run_entries or report.scheduled_items or report.schedule_versions:
        logger.info("programming retention %s", report)
    return report


def as_run_prune(*, before: dt.datetime) -> int:
    """Delete the as-run entries that started before ``before``: how many."""
    return _delete_in_batches(AsRunEntry.objects.filter(actual_start__lt=before))


def scheduled_items_prune(*, before: dt.datetime) -> int:
    """Delete the scheduled items that ended before ``before`` (their as-run entries stay)."""
    return _delete_in_batches(ScheduledItem.objects.filter(end__lt=before))


def schedule_versions_prune(*, keep: int) -> int:
    """Delete each channel's versions older than its latest ``keep`` that no item points at."""
    deleted = 0
    for channel_id in Channel.objects.values_list("pk", flat=True):
        versions = ScheduleVersion.objects.filter(channel_id=channel_id)
        latest = list(versions.order_by("-number").values_list("pk", flat=True)[: max(keep, 1)])
        unused = versions.exclude(pk__in=latest).filter(items__isnull=True)
        deleted += _delete_in_batches(unused)
    return deleted


def _delete_in_batches(rows: QuerySet[Any]) -> int:
    """Delete ``rows`` ``BATCH`` at a time (related rows as their foreign keys say): how many."""
    label, deleted = rows.model._meta.label, 0
    while ids := list(rows.values_list("pk", flat=True)[:BATCH]):
        deleted += rows.model.objects.filter(pk__in=ids).delete()[1].get(label, 0)
    return deleted
