#!/usr/bin/env bash
# The whole test suite: lint, format check, type check, tests (slow ones too).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

# Browser tests drive Debian's chromium through Playwright (no browser download).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ]; then
  echo "prefkit: installing Debian's chromium for the browser tests" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq chromium >/dev/null
fi

ruff check src tests bench
ruff format --check src tests bench
mypy
python -m pytest "$@"
