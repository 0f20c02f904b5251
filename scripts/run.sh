#!/usr/bin/env bash
# `make run`: prepare the embedded database and demo content, then start every process
# (web, workers, beat, nginx, and Redis when none answers) under one Procfile runner.
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
export CARILLON_PORT="${CARILLON_PORT:-8000}"
export CARILLON_WEB_PORT="${CARILLON_WEB_PORT:-8001}"
export CARILLON_DEMO_FEEDS="${CARILLON_DEMO_FEEDS:-true}"  # the demo's city feeds stay fresh
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export CARILLON_MQTT_URL="${CARILLON_MQTT_URL:-mqtt://127.0.0.1:1883}"
export PYTHONUNBUFFERED=1
PY=.venv/bin/python
mkdir -p var/run var/log var/media/public var/media/private var/nginx

for port in "$CARILLON_PORT" "$CARILLON_WEB_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "Port $port is already in use: is Carillon already running? Stop it first." >&2
    exit 1
  fi
done

# This installation's secret key and HDHomeRun device id: made once and kept in var/ (mode 0600),
# now, before the processes below start together and race to make them.
$PY -m config.secret_files
$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput --verbosity 0
# The password stays in the command's own private file (var/demo-admin.txt), not in a copy
# made with the default umask as earlier versions did.
rm -f var/run/demo-admin.txt
demo_admin="$($PY manage.py create_demo_admin)"
$PY manage.py seed_demo

cp Procfile var/run/Procfile
if ! .venv/bin/python - "$REDIS_URL" <<'PYEOF'
import sys
from redis import Redis
try:
    Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
except Exception:
    sys.exit(1)
PYEOF
then
  redis_port="$(.venv/bin/python -c 'import sys,urllib.parse as u; print(u.urlparse(sys.argv[1]).port or 6379)' "$REDIS_URL")"
  echo "No Redis answers at $REDIS_URL: starting one for this run."
  echo "redis: redis-server --bind 127.0.0.1 --port $redis_port --save '' --appendonly no --dir $ROOT/var/run" >> var/run/Procfile
fi

# The MQTT listener's broker: a local Mosquitto for this run when the configured one is local
# and does not answer (sensors and the demo publish to it).
mqtt_host="$($PY -c 'import sys,urllib.parse as u; print(u.urlsplit(sys.argv[1]).hostname or "")' "$CARILLON_MQTT_URL")"
mqtt_port="$($PY -c 'import sys,urllib.parse as u; print(u.urlsplit(sys.argv[1]).port or 1883)' "$CARILLON_MQTT_URL")"
if [[ "$mqtt_host" == "127.0.0.1" || "$mqtt_host" == "localhost" ]] \
  && ! (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null; then
  echo "No MQTT broker answers at $CARILLON_MQTT_URL: starting Mosquitto for this run."
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$mqtt_port" > var/run/mosquitto.conf
  mosquitto_bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
  echo "mosquitto: $mosquitto_bin -c $ROOT/var/run/mosquitto.conf" >> var/run/Procfile
fi

scripts/nginx-conf.sh > var/nginx/nginx.conf
echo "nginx: nginx -p $ROOT/var/nginx -c $ROOT/var/nginx/nginx.conf -g 'daemon off;'" >> var/run/Procfile

echo
echo "Carillon starts at http://127.0.0.1:$CARILLON_PORT/ (admin: http://127.0.0.1:$CARILLON_PORT/admin/)"
echo "$demo_admin"
echo "Demo videos are transcoded by the workers in the first minutes; see Vidéos in the admin."
echo "Press Ctrl-C to stop every process."
echo
exec .venv/bin/honcho -f var/run/Procfile -d "$ROOT" start
