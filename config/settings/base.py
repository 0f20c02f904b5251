"""Settings shared by every environment, all read through one django-environ ``env``.

Every variable read here is documented in ``.env.example`` and the README.
"""

import os
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from config.storage import local_storages, s3_storages

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True) and (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))
# A variable left empty (as in a copied .env.example) means "use the default", not "".
for _name in [name for name, value in os.environ.items() if value == ""]:
    del os.environ[_name]

# --- General -----------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# No default: ``local`` makes one per installation, ``production`` requires it, ``test`` sets it.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
# Only the production settings say True (``create_demo_admin`` then changes no existing user).
CARILLON_PRODUCTION = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
CARILLON_BASE_URL = env("CARILLON_BASE_URL", default="http://127.0.0.1:8000")
WAGTAILADMIN_BASE_URL = CARILLON_BASE_URL
WAGTAIL_SITE_NAME = "Carillon"
# No avatars from gravatar.com: the admin's CSP would block them, and editors' e-mail hashes stay here.
WAGTAIL_GRAVATAR_PROVIDER_URL = None

TIME_ZONE = "Europe/Paris"
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications ------------------------------------------------------------------------------
DJANGO_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]
WAGTAIL_APPS = [
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
]
LOCAL_APPS = [
    "cms",
    "broadcasting",
    "playlists",
    "city_feeds",
]
INSTALLED_APPS = DJANGO_APPS + WAGTAIL_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.csp.PathAwareCSPMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
# The embedded default is SQLite in WAL mode with IMMEDIATE transactions so that web, workers
# and beat can write at the same time; PostgreSQL is selected with DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'carillon.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=20000;"
            "PRAGMA foreign_keys=ON;"
        ),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- Cache and Redis ---------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# The cache fails soft: while Redis is away every lookup is a miss (pages answer, slower).
CACHES = {
    "default": {
        "BACKEND": "config.cache.FailSoftRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "carillon",
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}

# --- Storage -----------------------------------------------------------------------------------
# Two aliases besides Django's own: ``private`` (originals, work files; never public) and
# ``public`` (segments, playlists, posters at stable unsigned URLs).
MEDIA_ROOT = Path(env("CARILLON_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = env("CARILLON_MEDIA_URL", default="/media/")
PUBLIC_MEDIA_URL = env("CARILLON_PUBLIC_MEDIA_URL", default=f"{MEDIA_URL}public/")
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_URL = "/static/"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/hls", BASE_DIR / "node_modules" / "hls.js" / "dist"),  # hls.js from npm, not copied
]

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default="eu-west-3")
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
AWS_S3_PUBLIC_URL = env("AWS_S3_PUBLIC_URL", default="")

STORAGES = (
    s3_storages(
        bucket=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=AWS_S3_ENDPOINT_URL,
        region=AWS_S3_REGION_NAME,
        access_key=AWS_ACCESS_KEY_ID,
        secret_key=AWS_SECRET_ACCESS_KEY,
        public_url=AWS_S3_PUBLIC_URL,
    )
    if AWS_STORAGE_BUCKET_NAME
    else local_storages(media_root=MEDIA_ROOT, public_url=PUBLIC_MEDIA_URL)
)

# Wagtail images and documents are public editorial content.
WAGTAILIMAGES_IMAGE_MODEL = "wagtailimages.Image"
WAGTAILDOCS_SERVE_METHOD = "serve_view"

# --- Celery ------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# Each queue has its own direct exchange and routing key: ``Queue("transcode")`` alone would be
# bound to the default exchange with the key ``default``, as the default queue is, and a message
# sent there would reach both. The exchanges are not named ``default``: brokers keep the
# bindings that earlier versions made to that one.
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(f"carillon.{name}", type="direct"), routing_key=name)
    for name in ("default", "transcode", "cards")
)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_DEFAULT_EXCHANGE = "carillon.default"
CELERY_TASK_DEFAULT_ROUTING_KEY = "default"
# Information cards have a queue and a worker of their own, so transcodes never delay them;
# their transcode jobs are sent there too (``broadcasting.media.services.transcode_queue_of``).
CELERY_TASK_ROUTES = {
    "broadcasting.tasks.transcode_*": {"queue": "transcode"},
    "city_feeds.tasks_cards.*": {"queue": "cards"},
    "city_feeds.tasks_alerts.alert_card_build_task": {"queue": "cards"},
    "city_feeds.tasks_alerts.alert_clips_build_task": {"queue": "cards"},
}
# The longest job is a transcode: its hard limit bounds every other timeout.
CELERY_TRANSCODE_TIME_LIMIT = env.int("CELERY_TRANSCODE_TIME_LIMIT", default=4 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = 50
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the longest transcode, so a running task is never redelivered.
    "visibility_timeout": CELERY_TRANSCODE_TIME_LIMIT + 3600,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_WORKER_SEND_TASK_EVENTS = True
# Seconds between two sweeps of the transcode jobs (beat reads it once, when it starts).
CARILLON_SWEEP_INTERVAL = env.int("CARILLON_SWEEP_INTERVAL", default=30)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "keep-schedules-built": {
        "task": "playlists.tasks.keep_schedules_built",
        "schedule": 300,
        "options": {"expires": 240},
    },
    "sweep-transcode-jobs": {
        "task": "broadcasting.tasks.sweep_transcode_jobs",
        "schedule": CARILLON_SWEEP_INTERVAL,
        "options": {"expires": 25},
    },
    # Publications that a broker outage lost (approved videos without their public copy).
    "publish-missing-copies": {
        "task": "broadcasting.tasks.publish_missing_copies",
        "schedule": 600,
        "options": {"expires": 540},
    },
    # On the transcode queue: its worker owns the work folder. A busy worker drops the expired.
    "sweep-work-dirs": {
        "task": "broadcasting.tasks.transcode_sweep_work_dirs",
        "schedule": 600,
        "options": {"expires": 540},
    },
    "apply-programming-retention": {
        "task": "playlists.tasks.apply_retention",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    "apply-media-retention": {
        "task": "broadcasting.tasks.apply_retention",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
}

# --- Timeline and retention --------------------------------------------------------------------
# Days of timeline kept built ahead (beat extends it; XMLTV serves the coming 7 days).
CARILLON_SCHEDULE_HORIZON_DAYS = env.int("CARILLON_SCHEDULE_HORIZON_DAYS", default=8)
# What the hourly clean-up deletes: as-run entries older than a year, scheduled items that ended
# a week ago (the as-run log is the record), schedule versions beyond the latest N per channel
# that no item points at, originals of failed and rejected videos (the rows stay, with a note).
CARILLON_AS_RUN_RETENTION_DAYS = env.int("CARILLON_AS_RUN_RETENTION_DAYS", default=365)
CARILLON_SCHEDULE_RETENTION_DAYS = env.int("CARILLON_SCHEDULE_RETENTION_DAYS", default=7)
CARILLON_SCHEDULE_VERSIONS_KEPT = env.int("CARILLON_SCHEDULE_VERSIONS_KEPT", default=20)
CARILLON_ORIGINALS_RETENTION_DAYS = env.int("CARILLON_ORIGINALS_RETENTION_DAYS", default=30)

# --- Media pipeline ----------------------------------------------------------------------------
CARILLON_UPLOAD_MAX_BYTES = env.int("CARILLON_UPLOAD_MAX_BYTES", default=4 * 1024**3)
CARILLON_MAX_DURATION_SECONDS = env.int("CARILLON_MAX_DURATION_SECONDS", default=2 * 3600)
CARILLON_MAX_FRAME_SIZE = env.int("CARILLON_MAX_FRAME_SIZE", default=4096)
CARILLON_MAX_STREAMS = env.int("CARILLON_MAX_STREAMS", default=16)
CARILLON_WORK_DIR = Path(env("CARILLON_WORK_DIR", default=str(VAR_DIR / "work")))
# Limits of one ffmpeg run: memory (bytes), CPU time and wall time as multiples of the duration.
CARILLON_FFMPEG_MEMORY_BYTES = env.int("CARILLON_FFMPEG_MEMORY_BYTES", default=6 * 1024**3)
CARILLON_FFMPEG_TIME_FACTOR = env.float("CARILLON_FFMPEG_TIME_FACTOR", default=20.0)
CARILLON_FFMPEG_MIN_SECONDS = env.int("CARILLON_FFMPEG_MIN_SECONDS", default=300)
# Jobs: attempts before an asset is failed, heartbeat age after which a worker is presumed dead,
# and how long a queued job may wait for its message before the sweeper enqueues it again.
CARILLON_TRANSCODE_MAX_ATTEMPTS = env.int("CARILLON_TRANSCODE_MAX_ATTEMPTS", default=3)
CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT = env.int("CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT", default=120)
CARILLON_TRANSCODE_REQUEUE_AFTER = env.int("CARILLON_TRANSCODE_REQUEUE_AFTER", default=60)

# --- Live output ---------------------------------------------------------------------------
# HDHomeRun emulation for Plex/Jellyfin/Emby: tuners announced, and a fixed device id (8 hex
# characters; empty: a random one, made once and kept in CARILLON_HDHOMERUN_DEVICE_FILE).
CARILLON_HDHOMERUN_TUNER_COUNT = env.int("CARILLON_HDHOMERUN_TUNER_COUNT", default=4)
CARILLON_HDHOMERUN_DEVICE_ID = env("CARILLON_HDHOMERUN_DEVICE_ID", default="")
CARILLON_HDHOMERUN_DEVICE_FILE = VAR_DIR / "hdhomerun-device-id"
# Concurrent stream.ts viewers per channel, counted across every web worker (in Redis); beyond
# it, a 503 with Retry-After. Default: the tuners announced.
CARILLON_STREAMS_PER_CHANNEL = env.int(
    "CARILLON_STREAMS_PER_CHANNEL", default=CARILLON_HDHOMERUN_TUNER_COUNT
)

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "SAMEORIGIN"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Public media may live on another origin (S3, a CDN): the player must be allowed to fetch it.
_PUBLIC_ORIGINS = [
    url.split("/", 3)[0] + "//" + url.split("/", 3)[2]
    for url in (PUBLIC_MEDIA_URL, AWS_S3_PUBLIC_URL)
    if "://" in url
]

# Content-Security-Policy from the first page on. hls.js needs ``blob:`` for media and workers.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *_PUBLIC_ORIGINS],
        "media-src": ["'self'", "blob:", *_PUBLIC_ORIGINS],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'", *_PUBLIC_ORIGINS],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    },
}
# The Wagtail admin relies on inline scripts and styles; it gets its own, looser policy.
CARILLON_ADMIN_CSP = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", "https:"],
        "media-src": ["'self'", "blob:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'self'"],
    },
}

# --- Auth --------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Residents and editors sign in through the same allauth login, rate-limited; the Wagtail
# admin's own login and password reset lead there too (config/urls.py).
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "cms:profile"
WAGTAILADMIN_LOGIN_URL = "account_login"
WAGTAIL_FRONTEND_LOGIN_URL = "account_login"
WAGTAIL_PASSWORD_RESET_ENABLED = False

# --- Accounts (django-allauth) -------------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "cms.forms.accounts.SignupForm"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # a mail scanner following the link confirms nothing
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None  # the resident chooses
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Carillon] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if CARILLON_BASE_URL.startswith("https") else "http"
# Counted in the cache (Redis; while it is away the limits do not bite). "key" is the e-mail.
ACCOUNT_RATE_LIMITS = {
    "signup": "5/10m/ip,20/d/ip",
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/15m/key",
    "reset_password": "10/h/ip,3/h/key",
    "reset_password_from_key": "20/h/ip",
    "change_password": "5/m/user",
    "confirm_email": "1/3m/key",
}
# Proxies in front of the web processes (nginx: 1), so limits count the resident's address.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("CARILLON_TRUSTED_PROXY_COUNT", default=0)

# --- Email -------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Carillon <carillon@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Logging -----------------------------------------------------------------------------------
LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": "INFO"},
    },
}

# --- Search ------------------------------------------------------------------------------------
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# --- Residents' charter ------------------------------------------------------------------------
# The version of the charter residents consent to when they submit (stored with each consent);
# change it whenever templates/cms/residents/charter.html changes in substance.
CARILLON_CHARTER_VERSION = env("CARILLON_CHARTER_VERSION", default="2026-1")
# Limits of what residents send with their videos and posts (checked on the server).
CARILLON_SUBTITLES_MAX_BYTES = env.int("CARILLON_SUBTITLES_MAX_BYTES", default=512 * 1024)
CARILLON_POST_IMAGE_MAX_BYTES = env.int("CARILLON_POST_IMAGE_MAX_BYTES", default=10_000_000)
CARILLON_POST_IMAGE_MAX_PIXELS = env.int("CARILLON_POST_IMAGE_MAX_PIXELS", default=40_000_000)
# An approved post airs on the city news card (and the ticker) this many days after approval; a
# post with an event date airs on the day's events card until this many hours after its start.
CARILLON_POST_ON_AIR_DAYS = env.int("CARILLON_POST_ON_AIR_DAYS", default=7)
CARILLON_POST_EVENT_HOURS = env.int("CARILLON_POST_EVENT_HOURS", default=3)

# --- Residents' uploads ------------------------------------------------------------------------
# tus uploads are assembled here, one file per upload named by its id: a local folder (or a
# volume) shared by the web processes and the default worker, which hands them to storage.
CARILLON_UPLOAD_DIR = Path(env("CARILLON_UPLOAD_DIR", default=str(VAR_DIR / "uploads")))
# The largest PATCH body accepted (Uppy sends 8 MiB chunks; 1 MiB of slack). nginx's
# client_max_body_size for /api/v1/uploads/ must be at least this.
CARILLON_UPLOAD_CHUNK_BYTES = env.int("CARILLON_UPLOAD_CHUNK_BYTES", default=9 * 1024**2)
# Bytes a resident may have in unfinished uploads plus uploads finished in the last day.
CARILLON_UPLOAD_QUOTA_BYTES = env.int("CARILLON_UPLOAD_QUOTA_BYTES", default=8 * 1024**3)
# An unfinished upload expires this long after its last chunk (tus "expiration").
CARILLON_UPLOAD_EXPIRY_HOURS = env.int("CARILLON_UPLOAD_EXPIRY_HOURS", default=24)
CELERY_BEAT_SCHEDULE["expire-uploads"] = {
    "task": "cms.tasks.expire_uploads",
    "schedule": 900,
    "options": {"expires": 840},
}

# --- Demo ------------------------------------------------------------------------------------
# ``make run`` turns it on: beat replays the demo's recorded city feeds every few minutes, with
# their times moved to now, so the demo's cards and ticker never go stale.
CARILLON_DEMO_FEEDS = env.bool("CARILLON_DEMO_FEEDS", default=False)
if CARILLON_DEMO_FEEDS:
    CELERY_BEAT_SCHEDULE["replay-demo-feeds"] = {
        "task": "city_feeds.tasks_demo.demo_feeds_replay",
        "schedule": 240,
        "options": {"expires": 200},
    }

# --- City feeds --------------------------------------------------------------------------------
# Limits of a payload, fetched or pushed (bytes), and of one fetch of a source's URL (seconds:
# the whole answer, however slowly it trickles).
CARILLON_FEED_MAX_BYTES = env.int("CARILLON_FEED_MAX_BYTES", default=5 * 1024**2)
CARILLON_FEED_TIMEOUT_SECONDS = env.int("CARILLON_FEED_TIMEOUT_SECONDS", default=10)
# A source is disabled (and the editors told) after this many failures in a row.
CARILLON_FEED_MAX_FAILURES = env.int("CARILLON_FEED_MAX_FAILURES", default=10)
# The broker the MQTT listener (`manage.py mqtt_listen`) subscribes to; mqtts:// for TLS,
# user:password@ for credentials.
CARILLON_MQTT_URL = env("CARILLON_MQTT_URL", default="mqtt://127.0.0.1:1883")
# A signed push's timestamp may differ from our clock by this much (seconds).
CARILLON_FEED_PUSH_MAX_SKEW_SECONDS = env.int("CARILLON_FEED_PUSH_MAX_SKEW_SECONDS", default=300)
# Fetches never reach loopback addresses (only the test suite's local servers need them).
CARILLON_FEED_ALLOW_LOOPBACK = False
CELERY_BEAT_SCHEDULE["poll-feeds"] = {
    "task": "city_feeds.tasks.feeds_poll",
    "schedule": 30,
    "options": {"expires": 25},
}
# Information cards: one made at most this often per category, however often its data change;
# beat catches up refreshes lost or held back, and deletes cards that no longer air.
CARILLON_CARD_MIN_INTERVAL_SECONDS = env.int("CARILLON_CARD_MIN_INTERVAL_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["refresh-cards"] = {
    "task": "city_feeds.tasks_cards.refresh_cards",
    "schedule": 60,
    "options": {"expires": 55},
}
CELERY_BEAT_SCHEDULE["prune-cards"] = {
    "task": "city_feeds.tasks_cards.prune_cards",
    "schedule": 600,
    "options": {"expires": 540},
}
# Alerts: an alert's card comes back between programmes every N minutes until it ends; beat
# ends expired alerts, puts ready cards on air and plans the repeats.
CARILLON_ALERT_REPEAT_MINUTES = env.int("CARILLON_ALERT_REPEAT_MINUTES", default=15)
CELERY_BEAT_SCHEDULE["alerts-tick"] = {
    "task": "city_feeds.tasks_alerts.alerts_tick_task",
    "schedule": 30,
    "options": {"expires": 25},
}
CELERY_BEAT_SCHEDULE["expire-feed-items"] = {
    "task": "city_feeds.tasks.items_expire",
    "schedule": 300,
    "options": {"expires": 240},
}
