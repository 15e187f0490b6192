#!/usr/bin/env bash
# A real TensorBoard (pip, in a venv of its own; no TensorFlow, no PyTorch) for the
# integration tests of @baton/service-tensorboard and CI. Nothing is started: the tests
# start their own `tensorboard` processes through the service; this script only makes
# sure the command exists and works.
#
#   bash scripts/tensorboard-venv.sh start    make the venv and pip install tensorboard if missing,
#                                             check `tensorboard --version` (default)
#   bash scripts/tensorboard-venv.sh status   where the venv is and its version; exit 0 only when it works
#   bash scripts/tensorboard-venv.sh clean    delete the venv
#
# Environment:
#   BATON_TENSORBOARD_VENV   the venv (default: /opt/baton-tensorboard as root, else
#                            ${XDG_CACHE_HOME:-~/.cache}/baton-tensorboard); the tests look in both places
#   BATON_TENSORBOARD_PYTHON the interpreter the venv is made from (default: /usr/bin/python3, else python3)
#   BATON_TENSORBOARD_VERSION a pip pin, e.g. 2.21.0 (default: the newest the index has)
#   BATON_TENSORBOARD_PIP_ARGS extra pip arguments (default: "--retries 0" when pypi.org does not
#                            resolve: on a machine with a local index only, pip would otherwise retry
#                            the unreachable default index five times per package)
#
# After `start`, the tests use $BATON_TENSORBOARD_VENV/bin/tensorboard (or $BATON_TENSORBOARD when set).
# Root is needed only when `python3 -m venv` fails and python3-venv must be installed with apt.
set -euo pipefail

if [[ -n "${BATON_TENSORBOARD_VENV:-}" ]]; then
  VENV=$BATON_TENSORBOARD_VENV
elif [[ "$(id -u)" == 0 ]]; then
  VENV=/opt/baton-tensorboard
else
  VENV="${XDG_CACHE_HOME:-$HOME/.cache}/baton-tensorboard"
fi
readonly VENV
readonly VERSION="${BATON_TENSORBOARD_VERSION:-}"
readonly LOG_DIR="${TMPDIR:-/tmp}/baton-tensorboard-venv"

main() {
  case "${1:-start}" in
    start) start_venv ;;
    status) show_status ;;
    clean) rm -rf "$VENV"; say "removed $VENV" ;;
    *) echo "usage: bash $0 start | status | clean" >&2; exit 2 ;;
  esac
}

start_venv() {
  local started=$SECONDS
  if installed_version >/dev/null; then
    say "tensorboard $(installed_version) is ready: $VENV/bin/tensorboard"
    return 0
  fi
  mkdir -p "$LOG_DIR"
  make_venv
  install_tensorboard
  local version
  version=$(installed_version) || fail "$VENV/bin/tensorboard --version does not work after pip install" "see $LOG_DIR/pip.log"
  say "tensorboard $version ready in $((SECONDS - started)) s: $VENV/bin/tensorboard (venv $(du -sh "$VENV" | cut -f1))"
  say "tests find it there; elsewhere: export BATON_TENSORBOARD=$VENV/bin/tensorboard"
}

# The version `tensorboard --version` prints, when the venv's tensorboard runs (and matches the pin).
installed_version() {
  [[ -x "$VENV/bin/tensorboard" ]] || return 1
  local version
  version=$("$VENV/bin/tensorboard" --version 2>/dev/null | tail -n 1) || return 1
  [[ "$version" =~ ^[0-9]+\.[0-9]+ ]] || return 1
  [[ -z "$VERSION" || "$version" == "$VERSION" ]] || return 1
  echo "$version"
}

make_venv() {
  local python
  python=$(pick_python)
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  say "$python -m venv $VENV"
  if "$python" -m venv "$VENV" >"$LOG_DIR/venv.log" 2>&1; then return 0; fi
  rm -rf "$VENV"
  # Debian without python3-venv: "ensurepip is not available".
  command -v apt-get >/dev/null || { tail_log venv.log; fail "$python -m venv failed" "install the venv module of your Python"; }
  [[ "$(id -u)" == 0 ]] || { tail_log venv.log; fail "$python -m venv failed" "as root: apt-get install python3-venv"; }
  say "apt-get install python3-venv"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update >"$LOG_DIR/apt.log" 2>&1 || true
  apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends python3-venv >>"$LOG_DIR/apt.log" 2>&1 \
    || { tail_log apt.log; fail "apt-get install python3-venv failed"; }
  "$python" -m venv "$VENV" >"$LOG_DIR/venv.log" 2>&1 || { tail_log venv.log; rm -rf "$VENV"; fail "$python -m venv failed"; }
}

install_tensorboard() {
  local pip_args=()
  if [[ -n "${BATON_TENSORBOARD_PIP_ARGS+set}" ]]; then
    read -r -a pip_args <<<"$BATON_TENSORBOARD_PIP_ARGS"
  elif ! getent hosts pypi.org >/dev/null 2>&1; then
    pip_args=(--retries 0)
  fi
  local started=$SECONDS
  say "pip install tensorboard${VERSION:+==$VERSION} ${pip_args[*]:-}"
  if ! "$VENV/bin/pip" install --disable-pip-version-check "${pip_args[@]}" "tensorboard${VERSION:+==$VERSION}" >"$LOG_DIR/pip.log" 2>&1; then
    tail_log pip.log
    rm -rf "$VENV"
    fail "pip install tensorboard failed (log: $LOG_DIR/pip.log)" "check that pip reaches a package index (pip config list)"
  fi
  say "installed in $((SECONDS - started)) s"
}

show_status() {
  local version
  if version=$(installed_version); then
    echo "tensorboard-venv: tensorboard $version at $VENV/bin/tensorboard"
  else
    echo "tensorboard-venv: no working tensorboard in $VENV (bash $0 start makes it)"
    return 1
  fi
}

pick_python() {
  if [[ -n "${BATON_TENSORBOARD_PYTHON:-}" ]]; then
    echo "$BATON_TENSORBOARD_PYTHON"
  elif [[ -x /usr/bin/python3 ]]; then
    echo /usr/bin/python3
  elif command -v python3 >/dev/null; then
    command -v python3
  else
    fail "no python3 found" "install Python 3 (apt-get install python3 python3-venv) or set BATON_TENSORBOARD_PYTHON"
  fi
}

tail_log() {
  echo "---- last lines of $LOG_DIR/$1" >&2
  tail -n 20 "$LOG_DIR/$1" >&2 || true
}

say() { echo "[tensorboard-venv $(date +%T)] $*"; }

fail() {
  echo "[tensorboard-venv] error: $1" >&2
  [[ -n "${2:-}" ]] && echo "[tensorboard-venv] hint: $2" >&2
  exit 1
}

main "$@"
