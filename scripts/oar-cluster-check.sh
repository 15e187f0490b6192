#!/usr/bin/env bash
# Checks the cluster started by scripts/oar-cluster.sh behaves the way the OAR launcher's
# integration tests rely on. Prints one line per check, exits 1 at the first failure.
#
#   bash scripts/oar-cluster-check.sh [--outage SECONDS] [--quick]
#     --outage SECONDS   how long Almighty is stopped in the server-outage check (default 30; 0 skips it)
#     --quick            no outage check and no walltime check (~10 s instead of ~80 s)
#
# Run as root; jobs are submitted as BATON_OAR_USER (default batontest) from a folder in its home.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
readonly HERE
readonly CLUSTER_SCRIPT="$HERE/oar-cluster.sh"
readonly TEST_USER="${BATON_OAR_USER:-batontest}"

main() {
  local outage=30 walltime=1
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --outage) outage=$2; shift 2 ;;
      --quick) outage=0; walltime=0; shift ;;
      *) echo "usage: bash $0 [--outage SECONDS] [--quick]" >&2; exit 2 ;;
    esac
  done
  [[ "$(id -u)" == 0 ]] || fail "run it as root (it submits as $TEST_USER through runuser)"
  bash "$CLUSTER_SCRIPT" status >/dev/null || fail "the cluster is not fully up" "run: bash $CLUSTER_SCRIPT start"
  work=$(runuser -u "$TEST_USER" -- mktemp -d "$(getent passwd "$TEST_USER" | cut -d: -f6)/oar-check.XXXXXX")
  chmod 755 "$work"
  trap 'rm -rf "$work"' EXIT

  check_exit_code
  check_array_params
  check_delete_and_many_ids
  check_bad_queue
  if [[ $walltime == 1 ]]; then check_walltime; fi
  if [[ "$outage" -gt 0 ]]; then check_server_outage "$outage"; fi
  say "all checks passed"
}

check_exit_code() {
  local job
  job=$(submit -n check-exit -O exit.%jobid%.out -E exit.%jobid%.err 'pwd; exit 3')
  wait_final "$job" 30
  expect "$(field "$job" state)" Terminated "state of 'exit 3'"
  # the raw wait status: exit 3 -> 768
  expect "$(field "$job" exit_code)" 768 "exit_code of 'exit 3'"
  grep -qx "$work" "$work/exit.$job.out" || fail "job $job did not run in $work (exit.$job.out: $(cat "$work/exit.$job.out" 2>&1))"
  say "exit 3 -> Terminated, exit_code 768, ran in its folder"
}

check_array_params() {
  printf 'alpha 1\n"two words" 2\nthird x\n' >"$work/params"
  # shellcheck disable=SC2016 # expanded by the job's shell
  printf '#!/bin/sh\necho "$OAR_ARRAY_ID $OAR_ARRAY_INDEX [$1] [$2]"\n' >"$work/task.sh"
  chmod 755 "$work/task.sh"
  chown "$TEST_USER:$TEST_USER" "$work/params" "$work/task.sh"
  local output jobs array line index=0 job
  output=$(as_user oarsub -n check-array -l /core=1,walltime=0:01:00 -O task.%jobid%.out -E task.%jobid%.err \
    --array-param-file params ./task.sh 2>&1) || fail "oarsub --array-param-file failed: $output"
  mapfile -t jobs < <(sed -n 's/^OAR_JOB_ID=//p' <<<"$output")
  array=$(sed -n 's/^OAR_ARRAY_ID=//p' <<<"$output")
  [[ ${#jobs[@]} == 3 && "$array" == "${jobs[0]}" ]] || fail "expected 3 OAR_JOB_ID lines and OAR_ARRAY_ID=first id, got: $output"
  local expected=("[alpha] [1]" "[two words] [2]" "[third] [x]")
  for job in "${jobs[@]}"; do
    wait_final "$job" 30
    index=$((index + 1))
    line=$(cat "$work/task.$job.out" 2>/dev/null || true)
    expect "$line" "$array $index ${expected[index - 1]}" "output of array task $job"
  done
  say "--array-param-file: ${#jobs[@]} tasks, OAR_ARRAY_ID=$array, each sees its line as \$1 \$2 (shell-split)"
}

check_delete_and_many_ids() {
  local running done_job
  running=$(submit -n check-del -O del.out -E del.err 'sleep 300')
  done_job=$(submit -n check-true -O true.out -E true.err 'true')
  wait_state "$running" Running 30
  as_user oardel "$running" >/dev/null || fail "oardel $running failed"
  wait_final "$running" 30
  wait_final "$done_job" 30
  local json
  json=$(oarstat -J -f -j "$running" -j "$done_job" -j 999999999)
  expect "$(json_get "$json" "Object.keys(d).sort((a, b) => a - b).join(' ')")" "$(printf '%s\n' "$running" "$done_job" | sort -n | tr '\n' ' ' | sed 's/ $//')" \
    "ids in one 'oarstat -J -f -j A -j B -j <unknown>'"
  # The events' order varies from run to run (SWITCH_INTO_ERROR_STATE before or after
  # SEND_KILL_JOB): compared as a set, as the launcher reads them.
  expect "$(json_get "$json" "d[$running].state + ' ' + d[$running].exit_code + ' ' + d[$running].events.map(e => e.type).sort().join(',')")" \
    "Error null FRAG_JOB_REQUEST,SEND_KILL_JOB,SWITCH_INTO_ERROR_STATE" "oardel'ed job in oarstat -J -f (event types, sorted)"
  expect "$(json_get "$json" "d[$done_job].state")" Terminated "finished job in the same call"
  say "oardel -> Error (events FRAG_JOB_REQUEST, SEND_KILL_JOB); one oarstat -J -f with several -j, unknown ids left out"
}

check_bad_queue() {
  local output status=0
  output=$(as_user oarsub -q nosuchqueue -l /core=1,walltime=0:01:00 true 2>&1) || status=$?
  [[ $status != 0 ]] || fail "oarsub -q nosuchqueue succeeded: $output"
  grep -q 'OAR_JOB_ID=' <<<"$output" && fail "oarsub -q nosuchqueue printed a job id: $output"
  grep -q 'The queue nosuchqueue does not exist' <<<"$output" || fail "unexpected message for -q nosuchqueue: $output"
  say "oarsub -q nosuchqueue -> exit $status, 'ERROR : The queue nosuchqueue does not exist'"
}

check_walltime() {
  local job started=$SECONDS
  job=$(submit -n check-walltime -l /core=1,walltime=0:00:10 -O wall.out -E wall.err 'sleep 300')
  wait_final "$job" 90
  expect "$(field "$job" state)" Error "state of a job past its walltime"
  oarstat -e -j "$job" | grep -q ' WALLTIME: ' || fail "no WALLTIME event for job $job: $(oarstat -e -j "$job")"
  say "walltime 10 s -> Error with a WALLTIME event after $((SECONDS - started)) s"
}

check_server_outage() {
  local seconds=$1 running during output status=0 started
  running=$(submit -n check-outage-del -O odel.out -E odel.err 'sleep 300')
  wait_state "$running" Running 30
  bash "$CLUSTER_SCRIPT" stop-server >/dev/null
  started=$SECONDS
  output=$(as_user oarsub -n check-outage -l /core=1,walltime=0:01:00 -O during.out -E during.err 'echo ran' 2>&1) || status=$?
  during=$(sed -n 's/^OAR_JOB_ID=//p' <<<"$output")
  [[ $status == 9 && -n "$during" ]] || { start_server; fail "oarsub without Almighty: expected exit 9 with an id, got exit $status: $output"; }
  [[ "$(state "$running")" == Running ]] || { start_server; fail "oarstat without Almighty does not say job $running is Running"; }
  status=0
  output=$(as_user oardel "$running" 2>&1) || status=$?
  [[ $status == 2 ]] || { start_server; fail "oardel without Almighty: expected exit 2, got $status: $output"; }
  sleep $((seconds > SECONDS - started ? seconds - (SECONDS - started) : 0))
  start_server
  wait_final "$during" 60
  wait_final "$running" 60
  expect "$(state "$during")" Terminated "job submitted during the outage (oarsub said 'Job is killed')"
  grep -qx ran "$work/during.out" || fail "job $during did not run"
  expect "$(state "$running")" Error "job oardel'ed during the outage"
  say "server outage ${seconds} s: oarsub exit 9 but its job $during ran afterwards; oardel exit 2 but applied afterwards; oarstat kept answering"
}

start_server() { bash "$CLUSTER_SCRIPT" start-server >/dev/null; }

submit() { # submit OARSUB ARGS... COMMAND: prints the job id
  local output
  [[ " $* " == *" -l "* ]] || set -- -l /core=1,walltime=0:05:00 "$@"
  output=$(as_user oarsub "$@" 2>&1) || fail "oarsub $* failed: $output"
  sed -n 's/^OAR_JOB_ID=//p' <<<"$output"
}

# shellcheck disable=SC2016 # expanded by the user's shell
as_user() { runuser -u "$TEST_USER" -- bash -c 'cd "$0" && exec "$@"' "$work" "$@"; }

state() { oarstat -s -j "$1" | sed -n "s/^$1: //p"; }

field() { json_get "$(oarstat -J -f -j "$1")" "d[$1].$2"; }

json_get() { node -e 'const d = JSON.parse(process.argv[1]); console.log(eval(process.argv[2]))' "$1" "$2"; }

wait_state() { # wait_state JOB STATE SECONDS
  local current=""
  for _ in $(seq 1 $(($3 * 5))); do
    current=$(state "$1")
    [[ "$current" == "$2" ]] && return 0
    sleep 0.2
  done
  fail "job $1 is '$current', not $2, after $3 s"
}

wait_final() { # wait_final JOB SECONDS
  local current=""
  for _ in $(seq 1 $(($2 * 5))); do
    current=$(state "$1")
    [[ "$current" == Terminated || "$current" == Error ]] && return 0
    sleep 0.2
  done
  fail "job $1 is '$current' after $2 s, not Terminated or Error"
}

expect() { [[ "$1" == "$2" ]] || fail "$3: got '$1', expected '$2'"; }

say() { echo "[oar-cluster-check $(date +%T)] $*"; }

fail() {
  echo "[oar-cluster-check] error: $1" >&2
  [[ -n "${2:-}" ]] && echo "[oar-cluster-check] hint: $2" >&2
  exit 1
}

main "$@"
