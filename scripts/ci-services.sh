#!/usr/bin/env bash
# Installs and starts every real component the integration suites need, for .ci/run.
# Fails loudly (non-zero exit, the daemons' log tails on stderr) when any does not come up:
# in CI a suite that cannot find its cluster fails, so a broken service must be reported here first.
#
#   bash scripts/ci-services.sh start    SLURM (with accounting), then a quick behaviour check
#   bash scripts/ci-services.sh stop
#   bash scripts/ci-services.sh status
#
# Needs root, or passwordless sudo. Plain bash: it runs before `pnpm install`.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
readonly HERE

main() {
  case "${1:-}" in
    start) start_services ;;
    stop) as_root bash "$HERE/slurm-cluster.sh" stop ;;
    status) as_root bash "$HERE/slurm-cluster.sh" status ;;
    *) echo "usage: bash $0 start | stop | status" >&2; exit 2 ;;
  esac
}

start_services() {
  local started=$SECONDS
  echo "== services: SLURM"
  if ! as_root env BATON_SLURM_ACCOUNTING=1 bash "$HERE/slurm-cluster.sh" start; then
    show_logs
    fail "SLURM did not come up"
  fi
  # the controller-outage check takes 30 s; the launcher's own suite covers that path
  if ! as_root bash "$HERE/slurm-cluster-check.sh" --outage 0; then
    show_logs
    fail "SLURM is up but does not behave as the integration suites expect"
  fi
  echo "== services: all up in $((SECONDS - started)) s"
}

as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    fail "starting the test services needs root or passwordless sudo (it installs packages and starts daemons)"
  fi
}

show_logs() {
  local file
  for file in /var/log/baton-slurm/*.log /var/log/baton-slurm/*.err; do
    [[ -f "$file" ]] || continue
    echo "---- last lines of $file" >&2
    tail -n 25 "$file" >&2 || true
  done
}

fail() {
  echo "ci-services: error: $1" >&2
  exit 1
}

main "$@"
