#!/usr/bin/env bash
# SafeCity Twin: one entry point that sets everything up, then does the job.
#
#   ./run.sh app     set up, then start the planner app on the built-in real city (Kotka)
#   ./run.sh test    set up (including the headless browser), then run the whole test suite
#   ./run.sh test ARGS   the same set-up, then pytest ARGS (one process)
#   ./run.sh setup   set up only
#   ./run.sh sim ... set up, then run the command line (python -m sim ...)
#
# Set-up is idempotent: a virtual environment in .venv, requirements*.txt at the exact versions of
# requirements.lock, the compiled kernels (once per install), and for tests Debian's Chromium (the
# browser tests never download a browser).
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY=${PYTHON:-}

find_python() {
  for cand in $PY python3.13 python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
      "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$cand"
      return 0
    fi
  done
  echo "SafeCity Twin needs Python 3.11 or newer (apt-get install python3)." >&2
  return 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  as_root apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

setup_venv() {
  local req=$1 py stamp
  py=$(find_python)
  if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV with $py" >&2
    if ! "$py" -m venv "$VENV" 2>/dev/null; then
      # Debian splits venv out of the interpreter package.
      rm -rf "$VENV"
      apt_install python3-venv || { echo "[setup] cannot create a virtualenv: install python3-venv" >&2; exit 1; }
      "$py" -m venv "$VENV"
    fi
  fi
  stamp="$VENV/.stamp-$(basename "$req")"
  local want
  want=$(cat requirements.txt "$req" requirements.lock | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "[setup] installing Python packages from $req at the versions of requirements.lock" >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    # The lock pins the versions the tests pass with (Linux x86_64, Python 3.11). Where one of
    # them has no build for this Python, fall back to the ranges and say so.
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req" -c requirements.lock; then
      echo "[setup] the locked versions do not install here; using the ranges of $req (results may differ from the goldens)" >&2
      "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
      touch "$VENV/.unlocked"
    else
      rm -f "$VENV/.unlocked"
    fi
    echo "$want" >"$stamp"
    precompile
  fi
}

# The compiled kernels, so that the first large run does not stop to compile them (about 40 s of
# CPU; a few seconds when they are cached and current). Without them runs are the same, only slower.
# And the sources' bytecode: where PYTHONDONTWRITEBYTECODE is set (containers, CI) Python would
# otherwise compile every module of ours at every start (about 0.2 s of each command's start-up);
# it still reads bytecode that is there, and recompiles a module whose source changed since.
precompile() {
  echo "[setup] compiling the kernels (about 40 s the first time) and the sources' bytecode" >&2
  "$VENV/bin/python" -m sim.engine.precompile || echo "[setup] the kernels will compile at first use instead" >&2
  "$VENV/bin/python" -m compileall -q sim ui app.py >/dev/null || echo "[setup] bytecode not written: modules compile at import" >&2
  PRECOMPILED=1
}

setup_browser() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  echo "[setup] installing Debian's chromium for the browser tests" >&2
  apt_install chromium || echo "[setup] could not install chromium: browser tests will be skipped with a reason" >&2
}

cmd=${1:-app}
shift || true
case "$cmd" in
  setup)
    setup_venv requirements-dev.txt
    setup_browser
    # again after a change of the sources (git pull), not only after an install
    [ -n "${PRECOMPILED:-}" ] || precompile
    ;;
  app)
    setup_venv requirements.txt
    addr=${SAFECITY_ADDRESS:-127.0.0.1}
    # The address colleagues use; given, so that Streamlit never looks this machine up outside.
    shown=$addr
    if [ "$addr" = "0.0.0.0" ]; then shown=$(hostname -f 2>/dev/null || hostname); fi
    exec "$VENV/bin/python" -m streamlit run app.py \
      --server.address "$addr" --server.port "${SAFECITY_PORT:-8501}" --browser.serverAddress "$shown" \
      --server.headless true --server.fileWatcherType none --browser.gatherUsageStats false "$@"
    ;;
  test)
    setup_venv requirements-dev.txt
    setup_browser
    "$VENV/bin/python" -m ruff check sim ui app.py tests benchmarks
    "$VENV/bin/python" -m mypy  # sim/, with pydantic's plugin (pyproject.toml)
    "$VENV/bin/lint-imports"
    if [ "$#" -gt 0 ]; then exec "$VENV/bin/python" -m pytest "$@"; fi  # the tests asked for, as asked
    # The whole suite: all but the browser tests in two processes (a file's tests stay in one),
    # then the browser tests alone, since they time the app's answers on a machine not otherwise busy.
    rc=0
    "$VENV/bin/python" -m pytest -n "${SAFECITY_TEST_WORKERS:-2}" --dist loadfile -m "not browser" || rc=$?
    "$VENV/bin/python" -m pytest -m browser || rc=$?
    exit "$rc"
    ;;
  sim)
    setup_venv requirements.txt
    exec "$VENV/bin/python" -m sim "$@"
    ;;
  *)
    echo "usage: ./run.sh [app|test|setup|sim ARGS...]" >&2
    exit 2
    ;;
esac
