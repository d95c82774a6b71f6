#!/usr/bin/env bash
# The main job on the embedded default: prefkit demo (no network, ~5 min; seconds from the cache).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
prefkit demo "$@"
