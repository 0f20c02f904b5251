#!/usr/bin/env bash
# Start PostgreSQL, Redis and Mosquitto for the test suite if they do not answer already.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "Starting PostgreSQL"
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  if ! $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null; then
    $SUDO pg_ctlcluster "$version" main start
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
# Trust auth for local tests is the machine's setup; make sure the role the tests use exists.
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1" >/dev/null 2>&1 || \
  $SUDO -u postgres psql -tAc "ALTER USER postgres PASSWORD NULL" >/dev/null 2>&1 || true

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/carillon-redis-ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "Redis does not answer on 6379" >&2; exit 1; }

# The MQTT listener's tests talk to a real Mosquitto on 1883.
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "Starting Mosquitto"
  printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n' \
    > /tmp/carillon-mosquitto-ci.conf
  "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -d -c /tmp/carillon-mosquitto-ci.conf
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.2; done
fi
(exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null || { echo "Mosquitto does not answer on 1883" >&2; exit 1; }
