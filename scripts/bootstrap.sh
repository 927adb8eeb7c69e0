#!/usr/bin/env bash
# Create .venv and install slogate into it (with the test extra when asked).
# Reinstalls only when pyproject.toml changed, so repeated ./run and ./test start fast.
# Usage: scripts/bootstrap.sh [runtime|test]
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-runtime}"
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || { echo "bootstrap: $python not found; install Python >= 3.11" >&2; exit 2; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "bootstrap: slogate needs Python >= 3.11, found $("$python" -V 2>&1)" >&2; exit 2; }
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv || { echo "bootstrap: could not create .venv (on Debian: apt-get install python3-venv)" >&2; exit 2; }
fi
spec="."
[ "$extra" = "test" ] && spec=".[test]"
stamp=".venv/.slogate-$extra-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing slogate ($extra) into .venv ..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
  rm -f .venv/.slogate-"$extra"-*
  touch "$stamp"
fi
