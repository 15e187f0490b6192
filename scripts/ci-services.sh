#!/usr/bin/env bash
# Installs and starts every real component the integration suites need, for .ci/run.
# Fails loudly (non-zero exit, the daemons' log tails on stderr) when any does not come up:
# in CI a suite that cannot find its cluster fails, so a broken service must be reported here first.
#
#   bash scripts/ci-services.sh start    SLURM (with accounting), then a quick behaviour check;
#                                        OAR (scripts/oar-cluster.sh), then a quick behaviour check;
#                                        then the loopback sshd servers (scripts/sshd-loopback.sh);
#                                        then TensorBoard in a venv (scripts/tensorboard-venv.sh)
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
    stop) stop_services ;;
    status) show_status ;;
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
  echo "== services: OAR"
  if ! as_root bash "$HERE/oar-cluster.sh" start; then
    show_oar_logs
    fail "OAR did not come up"
  fi
  # the server-outage and walltime checks take a minute; the launcher's own suite covers them
  if ! as_root bash "$HERE/oar-cluster-check.sh" --quick; then
    show_oar_logs
    fail "OAR is up but does not behave as the integration suites expect"
  fi
  echo "== services: sshd on 127.0.0.1 (main, jump, few-sessions)"
  # sshd-loopback.sh checks each server with the real ssh client and prints its log tail when one fails
  if ! as_root bash "$HERE/sshd-loopback.sh" start; then
    show_sshd_logs
    fail "the loopback sshd servers did not come up"
  fi
  echo "== services: TensorBoard (a venv at /opt/baton-tensorboard; the tests start their own tensorboard)"
  # tensorboard-venv.sh prints pip's log tail when the install fails
  if ! as_root bash "$HERE/tensorboard-venv.sh" start; then
    fail "TensorBoard could not be installed in its venv"
  fi
  echo "== services: all up in $((SECONDS - started)) s"
}

stop_services() {
  local failed=0
  as_root bash "$HERE/sshd-loopback.sh" stop || failed=1
  as_root bash "$HERE/oar-cluster.sh" stop || failed=1
  as_root bash "$HERE/slurm-cluster.sh" stop || failed=1
  return $failed
}

# Exit 0 only when every service is up; all are listed either way.
show_status() {
  local failed=0
  as_root bash "$HERE/slurm-cluster.sh" status || failed=1
  as_root bash "$HERE/oar-cluster.sh" status || failed=1
  as_root bash "$HERE/sshd-loopback.sh" status || failed=1
  as_root bash "$HERE/tensorboard-venv.sh" status || failed=1
  return $failed
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

show_oar_logs() {
  local file
  for file in /var/log/oar.log /var/log/baton-oar/*.log /var/log/baton-oar/*.out; do
    [[ -f "$file" ]] || continue
    echo "---- last lines of $file" >&2
    tail -n 25 "$file" >&2 || true
  done
}

show_sshd_logs() {
  local file
  for file in "${BATON_SSHD_DIR:-/tmp/baton-sshd}"/sshd-*.log; do
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
