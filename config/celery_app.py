"""The Celery application: configured from Django settings (``CELERY_*``), tasks autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("carillon")
app.config_from_object("django.conf:settings", namespace="CELERY")  # queues: CELERY_TASK_QUEUES
app.autodiscover_tasks()
# Task modules besides ``tasks.py``: the info cards', the alerts' and the demo's feed replayer.
app.autodiscover_tasks(related_name="tasks_cards")
app.autodiscover_tasks(related_name="tasks_demo")
app.autodiscover_tasks(related_name="tasks_alerts")


@app.task(name="carillon.ping", ignore_result=False)
def ping() -> str:
    """Answer ``pong``: proves that a worker consumes the queue and the results come back."""
    return "pong"
