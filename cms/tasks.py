"""Celery entry points of the site: thin, they take ids and call a service."""

from celery import shared_task

from cms.models import Upload
from cms.services.uploads import upload_hand_over as upload_hand_over_service
from cms.services.uploads import uploads_expire


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=8,
    ignore_result=True,
)
def upload_hand_over(upload_id: str) -> str:
    """Give a complete upload's file to the media pipeline (idempotent: a re-run does nothing).
    Storage errors are retried; a file the intake refuses fails the upload, with no retry."""
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None:
        return "gone"
    return str(upload_hand_over_service(upload=upload).state)


@shared_task(ignore_result=True)
def expire_uploads() -> int:
    """Beat: delete the bytes of uploads left unfinished past their expiry; re-send the
    hand-over of complete uploads whose message was lost."""
    return uploads_expire()
