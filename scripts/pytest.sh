#!/usr/bin/env bash
# Run the test suite; "no tests collected" (exit 5) is a failure, not a success.
#
# Tests run in parallel with pytest-xdist, each worker with its own PostgreSQL and Redis
# databases (see config/settings/test.py). Workers: CARILLON_TEST_WORKERS, by default twice the
# cores (at most 12), because the real-time tests (live playout, browsers, a Celery worker)
# mostly wait on the clock: the extra workers keep the cores busy meanwhile (on 2 cores, 4
# workers ran the suite in 6 min 10 s from a cold cache, 3 in 6 min 31 s). Pass -n 0 to run in
# one process.
# "--dist load" hands tests out in collection order, so a worker that has run a transactional
# test (which empties its database) is never given a test that needs the migrated data; one at
# a time (--maxschedchunk 1), so that no worker queues long tests while another one idles.
set -uo pipefail
cd "$(dirname "$0")/.."
workers="${CARILLON_TEST_WORKERS:-$(( $(nproc) * 2 > 12 ? 12 : $(nproc) * 2 ))}"
.venv/bin/pytest -n "$workers" --dist load --maxschedchunk 1 "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
