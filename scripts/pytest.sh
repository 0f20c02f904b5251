#!/usr/bin/env bash
# Run the test suite; "no tests collected" (exit 5) is a failure, not a success.
# Tests run in parallel with pytest-xdist: CARILLON_TEST_WORKERS processes (default: one per
# core), each with its own databases (see config/settings/test.py); pass -n 0 to run in one.
# "--dist load" hands tests out in collection order, so a worker that has run a transactional
# test (which empties its database) is never given a test that needs the migrated data; one at
# a time (--maxschedchunk 1), so that no worker queues long tests while another one idles.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pytest -n "${CARILLON_TEST_WORKERS:-auto}" --dist load --maxschedchunk 1 "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
