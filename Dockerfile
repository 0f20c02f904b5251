# Carillon production image: one image for web, workers, beat and playout (docker-compose.yml
# picks the command). The application runs as the unprivileged user `carillon`.

# Front-end dependencies (hls.js for the TV player, Uppy for the residents' uploads) from the
# npm registry, pinned by the lock; Uppy (ES modules only) bundled by esbuild as `make bundle`
# does.
FROM node:20-bookworm-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY static/residents/upload.js static/residents/upload.js
RUN node_modules/.bin/esbuild static/residents/upload.js --bundle --minify --format=iife \
        --target=es2020 --sourcemap --log-level=warning --outdir=static/build/residents

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_READ_DOT_ENV_FILE=false \
    DJANGO_STATIC_ROOT=/app/var/static

# ffmpeg/ffprobe for the media pipeline, gettext for compilemessages, DejaVu for the cards
# that ffmpeg draws.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg gettext fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 carillon \
    && useradd --system --uid 10001 --gid carillon --home-dir /app/var --no-create-home \
        --shell /usr/sbin/nologin carillon

WORKDIR /app

# Dependencies first (from pyproject.toml, without the dev extras), so that a change of the
# code alone does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
COPY --from=frontend /build/node_modules/hls.js/dist ./node_modules/hls.js/dist
COPY --from=frontend /build/static/build ./static/build
RUN pip install . && rm -rf build ./*.egg-info

# Translations and static files are built into the image. Production settings refuse to load
# without their required variables: dummy values exist for this step only, never at run time.
RUN export DJANGO_SECRET_KEY=build-only-not-a-secret \
        DJANGO_ALLOWED_HOSTS=localhost \
        DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    && python manage.py compilemessages --verbosity 0 \
    && python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f /tmp/build.sqlite3

# /app stays owned by root (read-only for the application). /app/var holds run-time files
# (Celery beat's schedule); /app/var/work and /srv/static are where docker-compose.yml mounts
# the transcode workers' volume and the static volume that nginx serves (a new volume takes
# its folder's owner).
RUN mkdir -p /app/var /app/var/work /srv/static \
    && chown carillon:carillon /app/var /app/var/work /srv/static

USER carillon

EXPOSE 8000

CMD ["gunicorn", "config.asgi:application", "-k", "uvicorn.workers.UvicornWorker", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
