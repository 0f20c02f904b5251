"""Settings of the live benchmark's processes: the local settings with the benchmark's URLs.

Same middleware and server configuration as ``make run``; only the URLconf differs (it adds the
bare baseline view). ``CARILLON_BENCH_EAGER=1`` runs Celery tasks in the calling process, so the
set-up transcodes the demo library without a worker or a broker.
"""

from config.settings.local import *  # noqa: F403
from config.settings.local import env

ROOT_URLCONF = "benchmarks.bench_urls"
CELERY_TASK_ALWAYS_EAGER = env.bool("CARILLON_BENCH_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = CELERY_TASK_ALWAYS_EAGER
