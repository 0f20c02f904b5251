#!/usr/bin/env bash
# Install the operating-system packages Carillon needs, only those that are missing.
# Debian/Ubuntu: run as root, or with sudo available.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

declare -A NEED=(
  [ffmpeg]=ffmpeg
  [ffprobe]=ffmpeg
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [nginx]=nginx-light
  [msgfmt]=gettext
  [chromium]=chromium
  [psql]=postgresql-client
  [npm]=npm
  [wrk]=wrk
)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
# The test suite needs a PostgreSQL server; install one where none is installed.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then missing+=(postgresql); fi
# Debian's Python needs python3-venv to create the project's virtual environment.
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
# The MQTT broker of the city's sensors (`make run` starts one when none answers; the tests
# use it). Debian installs it in /usr/sbin, outside a regular user's PATH.
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
# Fonts for the pages' screenshots and for the cards drawn by ffmpeg.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)

if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
mapfile -t unique < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "Installing system packages: ${unique[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${unique[@]}" >/dev/null
