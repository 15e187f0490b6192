#!/usr/bin/env bash
# Checks the cluster started by scripts/slurm-cluster.sh behaves the way the SLURM launcher's
# integration tests rely on. Prints one line per check, exits 1 at the first failure.
#
#   bash scripts/slurm-cluster-check.sh [--outage SECONDS]   (default 30; 0 skips the slurmctld outage)
#
# Adapts to the cluster's mode: with accounting, sacct must report states and exit codes;
# without it, sacct must fail and `squeue --states=all` must still know finished jobs.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
readonly HERE
readonly CLUSTER_SCRIPT="$HERE/slurm-cluster.sh"

main() {
  local outage=30
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --outage) outage=$2; shift 2 ;;
      *) echo "usage: bash $0 [--outage SECONDS]" >&2; exit 2 ;;
    esac
  done
  bash "$CLUSTER_SCRIPT" status >/dev/null || fail "the cluster is not fully up" "run: bash $CLUSTER_SCRIPT start"
  accounting=$(cat /run/baton-slurm/accounting)
  work=$(mktemp -d /tmp/baton-slurm-check.XXXXXX)
  trap 'rm -rf "$work"' EXIT

  check_failed_exit_code
  check_array
  check_cancel
  check_partition_time_limit
  if [[ "$outage" -gt 0 ]]; then check_controller_outage "$outage"; fi
  say "all checks passed (accounting=$accounting)"
}

check_failed_exit_code() {
  local job
  job=$(sbatch --parsable --chdir "$work" -o "$work/%j.out" --wrap 'pwd; exit 3')
  wait_gone "$job" 30
  grep -qx "$work" "$work/$job.out" || fail "job $job did not run in its directory $work"
  if [[ "$accounting" == 1 ]]; then
    local line=""
    for _ in $(seq 1 50); do
      line=$(sacct -X -P -n -j "$job" -o JobID,State,ExitCode)
      [[ "$line" == "$job|FAILED|3:0" ]] && break
      sleep 0.2
    done
    [[ "$line" == "$job|FAILED|3:0" ]] || fail "sacct says '$line' for 'exit 3', expected '$job|FAILED|3:0'"
    say "exit 3 -> sacct $line"
  else
    local message
    if message=$(sacct -X -P -n -j "$job" -o JobID,State,ExitCode 2>&1); then
      fail "sacct succeeded without accounting: '$message'"
    fi
    local line
    line=$(squeue --states=all -h -j "$job" -o '%i|%T')
    [[ "$line" == "$job|FAILED" ]] || fail "squeue --states=all says '$line', expected '$job|FAILED'"
    say "no accounting: sacct fails ('$message'); squeue --states=all -> $line"
  fi
}

check_array() {
  local started=$SECONDS array states
  # shellcheck disable=SC2016 # expands in the job
  array=$(sbatch --parsable --array=0-49 --chdir "$work" -o "$work/a-%A_%a.out" --wrap 'echo $SLURM_ARRAY_TASK_ID')
  wait_gone "$array" 120
  states=$(squeue --states=all -h -j "$array" -o %T | sort | uniq -c | xargs)
  [[ "$states" == "50 COMPLETED" ]] || fail "array $array ended as '$states', expected 50 COMPLETED"
  [[ -s "$work/a-${array}_49.out" ]] || fail "array task 49 wrote no output"
  say "array 0-49 ($array): 50 COMPLETED in $((SECONDS - started)) s"
}

check_cancel() {
  local job state
  job=$(sbatch --parsable -o /dev/null --wrap 'sleep 300')
  wait_state "$job" RUNNING 15
  scancel "$job"
  wait_gone "$job" 30
  state=$(squeue --states=all -h -j "$job" -o %T)
  [[ "$state" == CANCELLED ]] || fail "scancel left job $job $state"
  say "scancel of running job $job -> $state"
}

check_partition_time_limit() {
  local job reason
  job=$(sbatch --parsable -p short --time=5 -o /dev/null --wrap true)
  for _ in $(seq 1 50); do
    reason=$(squeue -h -j "$job" -o '%T %r')
    [[ "$reason" == "PENDING PartitionTimeLimit" ]] && break
    sleep 0.2
  done
  scancel "$job"
  [[ "$reason" == "PENDING PartitionTimeLimit" ]] || fail "job $job asking --time=5 on 'short' is '$reason'"
  say "--time=5 on partition short -> $reason"
}

# The launcher must survive slurmctld going away: a queued job and a running one outlive it.
check_controller_outage() {
  local seconds=$1 running queued
  running=$(sbatch --parsable -o /dev/null --wrap "sleep $((seconds + 10))")
  queued=$(sbatch --parsable --begin=now+600 -o /dev/null --wrap true)
  wait_state "$running" RUNNING 15
  bash "$CLUSTER_SCRIPT" stop-ctld >/dev/null
  if sbatch --parsable -o /dev/null --wrap true >/dev/null 2>&1; then
    fail "sbatch succeeded while slurmctld was stopped"
  fi
  sleep "$seconds"
  bash "$CLUSTER_SCRIPT" start-ctld >/dev/null
  local state
  state=$(squeue -h -j "$queued" -o '%T %r')
  [[ "$state" == "PENDING BeginTime" ]] || fail "queued job $queued is '$state' after the outage"
  wait_gone "$running" 60
  state=$(squeue --states=all -h -j "$running" -o %T)
  [[ "$state" == COMPLETED ]] || fail "job $running, running across the outage, ended $state"
  scancel "$queued"
  say "slurmctld down ${seconds} s: queued job $queued still PENDING, running job $running $state"
}

wait_state() { # wait_state JOB STATE SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    [[ "$(squeue -h -j "$1" -o %T 2>/dev/null)" == "$2" ]] && return 0
    sleep 0.1
  done
  fail "job $1 did not reach $2 within $3 s (it is '$(squeue --states=all -h -j "$1" -o '%T %r' 2>&1)')"
}

wait_gone() { # wait_gone JOB SECONDS: until no task of JOB is pending or running
  for _ in $(seq 1 $(($2 * 10))); do
    [[ -z "$(squeue -h -j "$1" -t PENDING,RUNNING,COMPLETING -o %i 2>/dev/null)" ]] && return 0
    sleep 0.1
  done
  fail "job $1 still queued or running after $2 s"
}

say() { echo "[slurm-check $(date +%T)] $*"; }

fail() {
  echo "[slurm-check] FAILED: $1" >&2
  [[ -n "${2:-}" ]] && echo "[slurm-check] hint: $2" >&2
  echo "[slurm-check] logs: /var/log/baton-slurm/" >&2
  exit 1
}

main "$@"
