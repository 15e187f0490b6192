#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for the SLURM launcher's integration tests and CI.
# Debian 12 (SLURM 22.05), run as root, no systemd needed.
#
#   bash scripts/slurm-cluster.sh start [--no-accounting]  install if missing, configure, start, smoke-test
#   bash scripts/slurm-cluster.sh stop                     stop every daemon this script started
#   bash scripts/slurm-cluster.sh status                   daemons, mode, sinfo; exit 0 only when all are up
#   bash scripts/slurm-cluster.sh stop-ctld | start-ctld | restart-ctld
#                                                          slurmctld alone (tests of a controller outage)
#
# Environment:
#   BATON_SLURM_ACCOUNTING=1|0   1 (default): MariaDB + slurmdbd, so `sacct` works.
#                                0: AccountingStorageType=accounting_storage/none, sacct fails
#                                ("Slurm accounting storage is disabled"); same as --no-accounting.
#   BATON_SLURM_CPUS=8           CPUs the node advertises (more than the real cores, so arrays go fast).
#   BATON_SLURM_MIN_JOB_AGE=120  seconds a finished job stays visible to squeue/scontrol.
#
# `start` is idempotent: when the same configuration is already up it only re-checks it; when the
# configuration changed (e.g. accounting switched on or off) it restarts what it started.
# Daemons are stopped by the pid files this script owns (/run/baton-slurm), never by name.
set -euo pipefail

readonly RUN=/run/baton-slurm
readonly STATE=/var/lib/baton-slurm
readonly LOG=/var/log/baton-slurm
readonly CONF=/etc/slurm
readonly CLUSTER=baton
readonly DB_PASS=baton-slurm
# every daemon this script may start, in start order (what `status` lists)
readonly DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)

main() {
  local command="${1:-}"
  shift || true
  accounting="${BATON_SLURM_ACCOUNTING:-1}"
  for arg in "$@"; do
    case "$arg" in
      --no-accounting) accounting=0 ;;
      --accounting) accounting=1 ;;
      *) fail "unknown option '$arg'" "options: --no-accounting, --accounting" ;;
    esac
  done
  [[ "$accounting" == 0 || "$accounting" == 1 ]] ||
    fail "BATON_SLURM_ACCOUNTING='$accounting' is neither 0 nor 1" "unset it, or set it to 0 to run without slurmdbd"

  case "$command" in
    start) require_root; start_cluster ;;
    stop) require_root; stop_cluster ;;
    status) show_status ;;
    stop-ctld) require_root; stop_daemons slurmctld; say "slurmctld stopped; bring it back with: bash $0 start-ctld" ;;
    start-ctld) require_root; start_slurmctld ;;
    restart-ctld) require_root; stop_daemons slurmctld; start_slurmctld ;;
    *) echo "usage: bash $0 start [--no-accounting] | stop | status | stop-ctld | start-ctld | restart-ctld" >&2; exit 2 ;;
  esac
}

start_cluster() {
  local started=$SECONDS
  install_packages
  local host
  host=$(hostname -s)
  # slurmctld and slurmd look the node name up; make sure it resolves here
  getent hosts "$host" >/dev/null || echo "127.0.0.1 $host" >>/etc/hosts
  mkdir -p "$RUN" "$STATE/ctld" "$STATE/d" "$LOG" "$CONF"
  # $RUN stays root-owned: munged refuses a pid file under a directory another user may write
  chmod 755 "$RUN"
  chown root:root "$RUN"
  chown slurm:slurm "$STATE/ctld" "$LOG"

  local slurm_conf dbd_conf
  slurm_conf=$(render_slurm_conf "$host")
  dbd_conf=$(render_slurmdbd_conf)
  if all_running && same_file "$CONF/slurm.conf" "$slurm_conf" &&
    { [[ "$accounting" == 0 ]] || same_file "$CONF/slurmdbd.conf" "$dbd_conf"; }; then
    say "already running with this configuration (accounting=$accounting); checking it"
  else
    stop_cluster
    refuse_foreign_daemons
    printf '%s\n' "$slurm_conf" >"$CONF/slurm.conf"
    if [[ "$accounting" == 1 ]]; then
      printf '%s\n' "$dbd_conf" >"$CONF/slurmdbd.conf"
      chown slurm:slurm "$CONF/slurmdbd.conf"
      chmod 600 "$CONF/slurmdbd.conf" # slurmdbd refuses a readable file
    fi
    echo "$accounting" >"$RUN/accounting"
    start_munged
    if [[ "$accounting" == 1 ]]; then
      start_mariadbd
      start_slurmdbd
    fi
    start_slurmctld
    start_slurmd
  fi
  wait_for_node "$host"
  smoke_test
  say "ready in $((SECONDS - started)) s (accounting=$accounting, node $host, partitions debug and short)"
  echo "SLURM is up: try 'sinfo' and 'sbatch --wrap \"hostname\"'; stop it with: bash $0 stop"
}

install_packages() {
  local wanted=(slurm-wlm munge) missing=() package
  [[ "$accounting" == 1 ]] && wanted+=(slurmdbd mariadb-server)
  for package in "${wanted[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [[ ${#missing[@]} == 0 ]] && return 0
  say "apt-get install ${missing[*]}"
  local started=$SECONDS temporary_policy=0
  # Without systemd, postinst scripts start the packaged daemons through /etc/init.d;
  # a policy-rc.d that exits 101 forbids that, so only this script starts daemons.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    temporary_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT # also when interrupted mid-install
  fi
  local apt_log="$LOG/apt.log"
  mkdir -p "$LOG"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$apt_log" 2>&1; then
    # an image with an empty or stale package index: refresh it once
    apt-get update >>"$apt_log" 2>&1 || true
    apt-get install -y --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1 || {
      tail -n 20 "$apt_log" >&2
      fail "apt-get install ${missing[*]} failed" "see $apt_log"
    }
  fi
  if [[ $temporary_policy == 1 ]]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  say "installed in $((SECONDS - started)) s"
}

render_slurm_conf() {
  local host=$1 hardware memory cpus="${BATON_SLURM_CPUS:-8}"
  hardware=$(slurmd -C | head -n 1)
  memory=$(sed -E 's/.*RealMemory=([0-9]+).*/\1/' <<<"$hardware")
  local storage="AccountingStorageType=accounting_storage/none"
  if [[ "$accounting" == 1 ]]; then
    storage="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819"
  fi
  cat <<EOF
# Written by baton scripts/slurm-cluster.sh; rewritten at every start.
ClusterName=$CLUSTER
SlurmctldHost=$host
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
# no cgroups: works in VMs and containers without systemd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
# start jobs at submit time: the default 3 s batch delay makes 20 small jobs take 27 s instead of 9
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# finished jobs stay in squeue/scontrol this long, then only sacct (or jobcomp) knows them
MinJobAge=${BATON_SLURM_MIN_JOB_AGE:-120}
KillWait=5
OverTimeLimit=0
InactiveLimit=0
SlurmctldTimeout=30
# long enough that a node is not declared DOWN across a slurmctld outage of a minute or two
SlurmdTimeout=300
$storage
# one line per finished job, with or without slurmdbd
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.log
# advertise more CPUs than the machine has, so 50-task arrays do not run two at a time
SlurmdParameters=config_overrides
NodeName=$host CPUs=$cpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
# MaxTime is in minutes: a job asking --time=5 here pends with reason PartitionTimeLimit
PartitionName=short Nodes=ALL MaxTime=1 State=UP
EOF
}

render_slurmdbd_conf() {
  cat <<EOF
# Written by baton scripts/slurm-cluster.sh; rewritten at every start.
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=baton_slurm_acct_db
EOF
}

start_munged() {
  if munge_answers; then
    say "using the munged already running (not started by this script, so 'stop' leaves it)"
    return 0
  fi
  if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --force >/dev/null 2>&1 || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  fi
  chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  chmod 700 /etc/munge
  chmod 600 /etc/munge/munge.key
  # systemd's RuntimeDirectory= normally makes these
  mkdir -p /run/munge "$RUN/munge"
  chown munge:munge /run/munge "$RUN/munge"
  runuser -u munge -- /usr/sbin/munged --pid-file="$RUN/munge/munged.pid" ||
    fail "munged did not start" "see /var/log/munge/munged.log"
  wait_for 10 munged munge_answers || fail "munged did not answer" "see /var/log/munge/munged.log"
}

start_mariadbd() {
  if mariadb-admin ping >/dev/null 2>&1; then
    say "using the MariaDB already running (not started by this script, so 'stop' leaves it)"
  else
    launch_mariadbd
  fi
  mariadb -e "CREATE DATABASE IF NOT EXISTS baton_slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
    ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
    GRANT ALL ON baton_slurm_acct_db.* TO 'slurm'@'localhost';"
}

launch_mariadbd() {
  mkdir -p /run/mysqld
  chown mysql:root /run/mysqld
  [[ -d /var/lib/mysql/mysql ]] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$LOG/mariadb-install.log" 2>&1
  # mariadbd does not daemonize; start-stop-daemon detaches it and writes the pid file we own
  start-stop-daemon --start --background --make-pidfile --pidfile "$RUN/mariadbd.pid" \
    --exec /usr/sbin/mariadbd -- --user=mysql --bind-address=127.0.0.1 \
    --innodb-buffer-pool-size=64M --log-error="$LOG/mariadb.err"
  wait_for 30 mariadbd mariadb-admin ping || fail "MariaDB did not answer" "see $LOG/mariadb.err"
}

# munged and MariaDB may be the machine's own, started by someone else: they count when they answer
foreign_daemon_answers() {
  case "$1" in
    munged) munge_answers ;;
    mariadbd) mariadb-admin ping >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

munge_answers() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_slurmdbd() {
  /usr/sbin/slurmdbd # daemonizes, drops to SlurmUser
  wait_for 30 slurmdbd sacctmgr -n list cluster || fail "slurmdbd did not answer" "see $LOG/slurmdbd.log"
}

start_slurmctld() {
  if daemon_running slurmctld; then
    say "slurmctld already running (pid $(cat "$RUN/slurmctld.pid"))"
  else
    [[ -s "$CONF/slurm.conf" ]] || fail "no $CONF/slurm.conf" "run: bash $0 start"
    /usr/sbin/slurmctld # daemonizes, drops to SlurmUser, recovers queued jobs from StateSaveLocation
  fi
  wait_for 30 slurmctld bash -c 'scontrol ping | grep -q "is UP"' || fail "slurmctld did not answer" "see $LOG/slurmctld.log"
  say "slurmctld up (pid $(cat "$RUN/slurmctld.pid"))"
}

start_slurmd() {
  /usr/sbin/slurmd # daemonizes; stays root to launch jobs as any user
}

wait_for_node() {
  local host=$1 state resumed=0
  for _ in $(seq 1 300); do
    state=$(sinfo -h -n "$host" -p debug -o %T 2>/dev/null || true)
    case "$state" in
      idle | mixed | allocated) return 0 ;;
      # left DOWN or DRAINED by an earlier run or a test, while its slurmd answers ("*" would say it does not)
      down | drain | drained | draining)
        [[ $resumed == 0 ]] && { say "node $host is $state; resuming it"; scontrol update nodename="$host" state=resume || true; }
        resumed=1 ;;
    esac
    sleep 0.1
  done
  fail "node $host is not idle after 30 s: $(sinfo -h -N -o '%T %E' 2>&1 | head -n 1)" "see $LOG/slurmd.log and $LOG/slurmctld.log"
}

smoke_test() {
  local dir job state=""
  dir=$(mktemp -d /tmp/baton-slurm-smoke.XXXXXX)
  # shellcheck disable=SC2016 # $SLURM_JOB_ID expands in the job, not here
  job=$(sbatch --parsable --chdir "$dir" -o "$dir/%j.out" --wrap 'echo "hello from $SLURM_JOB_ID"; pwd') ||
    fail "sbatch of the smoke job failed" "see $LOG/slurmctld.log"
  for _ in $(seq 1 300); do
    state=$(scontrol show job "$job" 2>/dev/null | grep -oE 'JobState=[A-Z_]+' || true)
    [[ "$state" =~ JobState=(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL) ]] && break
    sleep 0.1
  done
  if [[ "$state" != JobState=COMPLETED ]] || ! grep -q "hello from $job" "$dir/$job.out" 2>/dev/null; then
    fail "smoke job $job did not complete (${state:-no state}) or wrote no output in $dir" \
      "see $LOG/slurmctld.log and $LOG/slurmd.log"
  fi
  if [[ "$accounting" == 1 ]]; then
    wait_for 15 "job $job in sacct" bash -c "sacct -n -X -j $job -o State | grep -q COMPLETED" ||
      fail "sacct does not know smoke job $job" "see $LOG/slurmdbd.log"
  fi
  rm -rf "$dir"
  say "smoke job $job completed"
}

stop_cluster() {
  # clients first, so slurmdbd can still write to MariaDB and everyone can still reach munged
  stop_daemons slurmd slurmctld
  stop_daemons slurmdbd
  stop_daemons mariadbd munged
  rm -f "$RUN/accounting"
  say "stopped"
}

show_status() {
  local name all_up=0 expected=("${DAEMONS[@]}") mode
  mode=$(cat "$RUN/accounting" 2>/dev/null || echo "none (not started)")
  [[ "$mode" == 0 ]] && expected=(munged slurmctld slurmd)
  for name in "${DAEMONS[@]}"; do
    if daemon_running "$name"; then
      echo "$name: running (pid $(cat "$(pid_file "$name")"))"
    elif foreign_daemon_answers "$name"; then
      echo "$name: running (not started by this script)"
    else
      echo "$name: stopped"
      [[ " ${expected[*]} " == *" $name "* ]] && all_up=1
    fi
  done
  echo "accounting: $mode"
  # without slurmctld, sinfo only times out
  if daemon_running slurmctld; then sinfo 2>/dev/null || true; fi
  return $all_up
}

all_running() {
  [[ "$(cat "$RUN/accounting" 2>/dev/null)" == "$accounting" ]] || return 1
  # munged and MariaDB may be the machine's own (see start_munged); then answering is enough
  munge_answers && daemon_running slurmctld && daemon_running slurmd || return 1
  if [[ "$accounting" == 1 ]]; then
    mariadb-admin ping >/dev/null 2>&1 && daemon_running slurmdbd
  fi
}

# Fails when the SLURM ports are taken by daemons this script did not start (e.g. the recipe in
# ../shared/recipes): two slurmctld on one port would make every test flaky.
refuse_foreign_daemons() {
  local port
  for port in 6817 6818 6819; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      fail "port $port is already in use by a process this script did not start (another SLURM cluster?)" \
        "stop that cluster first (e.g. 'bash slurm-single-node.sh stop' for the shared recipe), then run: bash $0 start"
    fi
  done
}

stop_daemons() {
  local name pid pids=()
  for name in "$@"; do
    if daemon_running "$name"; then
      pid=$(cat "$(pid_file "$name")")
      say "stopping $name (pid $pid)"
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid still alive after 15 s, sending SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  for name in "$@"; do rm -f "$(pid_file "$name")"; done
}

# A pid file counts only when its process is alive and is the daemon it names, so a stale
# file whose pid was reused never makes us signal an unrelated process.
daemon_running() {
  local file pid
  file=$(pid_file "$1")
  [[ -s "$file" ]] || return 1
  pid=$(cat "$file")
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$1" ]]
}

pid_file() {
  if [[ "$1" == munged ]]; then echo "$RUN/munge/munged.pid"; else echo "$RUN/$1.pid"; fi
}

same_file() { [[ -f "$1" ]] && [[ "$(cat "$1")" == "$2" ]]; }

wait_for() { # wait_for SECONDS WHAT COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  say "gave up waiting for $what after $seconds s"
  return 1
}

require_root() {
  [[ "$(id -u)" == 0 ]] || fail "this command needs root (it installs packages and starts daemons)" "run it with sudo"
}

say() { echo "[slurm-cluster $(date +%T)] $*"; }

fail() {
  echo "[slurm-cluster] error: $1" >&2
  [[ -n "${2:-}" ]] && echo "[slurm-cluster] hint: $2" >&2
  exit 1
}

main "$@"
