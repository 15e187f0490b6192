#!/usr/bin/env bash
# A real one-node OAR 2.5.9 cluster on this machine, for the OAR launcher's integration tests and CI.
# Debian 12 packages (PostgreSQL 15 backend), run as root, no systemd needed.
#
#   bash scripts/oar-cluster.sh start          install if missing, configure, start, smoke-test
#   bash scripts/oar-cluster.sh stop           stop what this script started (PostgreSQL only if it started it);
#                                              running jobs keep running (OAR detaches them from the server)
#   bash scripts/oar-cluster.sh status         daemons and resources; exit 0 only when everything is up
#   bash scripts/oar-cluster.sh clean          stop, end the jobs still running, drop the OAR database
#                                              (every job and resource forgotten; job ids start again at 1)
#   bash scripts/oar-cluster.sh stop-server | start-server
#                                              Almighty (the OAR server) alone: tests of a server outage
#
# Pieces, all on this machine:
#   PostgreSQL (the machine's cluster 15/main)  database "oar", roles oar / oar_ro
#   oar-node sshd on 127.0.0.1:6667             the server reaches the node as user oar (packaged keys)
#   Almighty on :6666                           scheduler, launcher, walltime checks (sarko); runs as oar
#   one node, `hostname -s`, BATON_OAR_CORES resources (properties host, cpu=1, core=1..N)
#
# Environment:
#   BATON_OAR_USER=batontest   who submits the smoke job (root and oar may not submit, see below);
#                              created when missing, the same user as scripts/sshd-loopback.sh
#   BATON_OAR_CORES=8          one OAR resource per core, more than the real cores so arrays go fast;
#                              lowering it sets the extra resources Dead (their job history is kept)
#
# Gotchas this script handles:
#   * root and oar may not submit: "[ADMISSION RULE] root and oar users are not allowed to submit jobs."
#     Tests submit as BATON_OAR_USER (e.g. `runuser -u batontest -- oarsub ...`) from a folder in its
#     home; the home is made 755 so root-run tests can read the job folders.
#   * The packaged cgroup job-resource-manager deletes every file the job user owns in /tmp, /var/tmp
#     and /dev/shm when the user's last job on the node ends (OAR.<id>.stdout under /tmp vanishes while
#     the job still ends Terminated). JOB_RESOURCE_MANAGER_PROPERTY_DB_FIELD and CPUSET_PATH are
#     commented out in oar.conf: no cpuset, no cgroups, nothing purged (and `oarsh` does not work).
#   * SCHEDULER_MIN_TIME_BETWEEN_2_CALLS=0: the default 5 s throttle makes jobs start ~10 s apart.
#   * Almighty is stopped by signalling its process group (its helpers ignore SIGTERM); the packaged
#     init script kills by name, which this script never does.
#
# While Almighty is stopped (stop-server), observed with OAR 2.5.9 (PostgreSQL stays up):
#   * oarsub prints OAR_JOB_ID=<id> on stdout, then "[ERROR] Cannot connect to executor
#     localhost:6666. Job is killed." on stderr and exits 9, in 0.3 s. The message is wrong: the job
#     IS in the database, Waiting, and runs once Almighty is back (oarsub's qdel call is commented
#     out). A launcher that resubmits after exit 9 runs the job twice.
#   * oarstat and oarnodes read PostgreSQL and answer as usual; jobs keep their last state: a job
#     whose command ends during the outage stays Running until Almighty is back.
#   * oardel prints "Deleting the job = <id> ...REGISTERED." on stdout, then "Could not connect to
#     the socket localhost:6666" on stderr and exits 2; the request is kept and applied when
#     Almighty is back (the job then ends in Error).
#   * Running jobs keep running (their oarexec is detached from Almighty and from the node sshd).
#   Almighty left alone looks at its queue ~10 s after starting; start-server (and start) nudge it
#   at once, as oarsub and oardel would, so the work left from the outage is done within ~2 s.
#
# `start` is idempotent: with everything up and the same oar.conf it only sets the resources and
# re-runs the smoke job; a changed oar.conf restarts Almighty. A cluster started by the shared recipe
# (oar-single-node.sh: /run/oar-server.pid, /run/oar-node_sshd.pid) or by the packaged init script is
# stopped first through those pid files, and a PostgreSQL the recipe started is taken over (`stop`
# stops it). Daemons are stopped by the pid files this script owns (/run/baton-oar), never by name.
set -euo pipefail

readonly RUN=/run/baton-oar
readonly LOG=/var/log/baton-oar
readonly OAR_LOG=/var/log/oar.log
readonly CONF=/etc/oar/oar.conf
readonly SERVER_PORT=6666
readonly NODE_PORT=6667
readonly DB_PASS=baton-oar
readonly DB_RO_PASS=baton-oar-ro
readonly PG_CLUSTER=main
# what other starters leave behind: the shared recipe, and /usr/sbin/oar-server (the init script)
readonly OTHER_SERVER_PID=/run/oar-server.pid
readonly OTHER_SSHD_PID=/run/oar-node_sshd.pid
readonly RECIPE_PG_MARK=/run/oar-recipe-started-postgresql
readonly PACKAGES=(oar-server oar-server-pgsql oar-node oar-user oar-user-pgsql postgresql openssh-server)

main() {
  local command="${1:-}"
  TEST_USER="${BATON_OAR_USER:-batontest}"
  CORES="${BATON_OAR_CORES:-8}"
  [[ "$CORES" =~ ^[1-9][0-9]*$ ]] || fail "BATON_OAR_CORES='$CORES' is not a positive number" "unset it (8 resources) or set e.g. BATON_OAR_CORES=4"
  case "$command" in
    start) require_root; start_cluster ;;
    stop) require_root; stop_cluster ;;
    status) show_status ;;
    clean) require_root; clean ;;
    stop-server) require_root; stop_almighty; say "Almighty stopped; bring it back with: bash $0 start-server" ;;
    start-server) require_root; start_almighty ;;
    *) echo "usage: bash $0 start | stop | status | clean | stop-server | start-server" >&2; exit 2 ;;
  esac
}

start_cluster() {
  local started=$SECONDS
  install_packages
  mkdir -p "$RUN" "$LOG"
  chmod 755 "$RUN"
  stop_other_instances
  make_user
  local host
  host=$(hostname -s)
  getent hosts "$host" >/dev/null || echo "127.0.0.1 $host" >>/etc/hosts

  start_postgresql
  configure
  setup_database
  setup_node_ssh
  if daemon_running node-sshd; then
    say "oar-node sshd already running (pid $(cat "$(pid_file node-sshd)"))"
  else
    start_node_sshd
  fi
  if daemon_running almighty && [[ $CONF_CHANGED == 1 ]]; then
    say "oar.conf changed; restarting Almighty"
    stop_almighty
  fi
  start_almighty
  set_resources "$host"
  wait_for_resources "$host"
  smoke_test
  echo "$CORES" >"$RUN/cores"
  say "ready in $((SECONDS - started)) s (node $host, $CORES cores, test user $TEST_USER)"
  echo "OAR is up: try 'oarnodes -s' and, as $TEST_USER, 'oarsub -l /core=1 hostname'; stop it with: bash $0 stop"
}

install_packages() {
  local missing=() package
  for package in "${PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [[ ${#missing[@]} == 0 ]] && return 0
  say "apt-get install ${missing[*]}"
  local started=$SECONDS temporary_policy=0
  # Without systemd, postinst scripts start the packaged daemons (PostgreSQL, sshd on :22, oar-server)
  # through /etc/init.d; a policy-rc.d that exits 101 forbids that, so only this script starts daemons.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    temporary_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT # also when interrupted mid-install
  fi
  local apt_log="$LOG/apt.log"
  mkdir -p "$LOG"
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}")
  if ! "${apt[@]}" >"$apt_log" 2>&1; then
    # an image with an empty or stale package index: refresh it once
    apt-get -o DPkg::Lock::Timeout=300 update >>"$apt_log" 2>&1 || true
    "${apt[@]}" >>"$apt_log" 2>&1 || {
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

# A cluster started by the shared recipe or the init script uses the same ports, database and
# oar.conf: stop it through its own pid files (checked like ours), and adopt the PostgreSQL the
# recipe started so that our `stop` stops it.
stop_other_instances() {
  if process_is "$OTHER_SERVER_PID" Almighty; then
    say "stopping the Almighty started from $OTHER_SERVER_PID (the shared recipe or the init script)"
    stop_process_group "$(cat "$OTHER_SERVER_PID")"
    rm -f "$OTHER_SERVER_PID"
  fi
  if process_is "$OTHER_SSHD_PID" sshd; then
    say "stopping the oar-node sshd started from $OTHER_SSHD_PID (the shared recipe)"
    stop_pids_and_children "$(cat "$OTHER_SSHD_PID")"
    rm -f "$OTHER_SSHD_PID"
  fi
  if [[ -e "$RECIPE_PG_MARK" ]]; then
    pg_online && touch "$RUN/postgresql.started"
    rm -f "$RECIPE_PG_MARK"
  fi
}

make_user() {
  id "$TEST_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$TEST_USER"
  # useradd leaves the password field '!', a locked account (sshd-loopback.sh needs it unlocked);
  # '*' has no usable password but is not locked.
  [[ "$(getent shadow "$TEST_USER" | cut -d: -f2)" == '*' ]] || usermod -p '*' "$TEST_USER"
  local home
  home=$(user_home)
  [[ -d "$home" ]] || install -d -o "$TEST_USER" -g "$TEST_USER" "$home"
  # root-run tests read the job folders the user's jobs write under it
  chmod 755 "$home"
}

pg_version() {
  local version
  version=$(pg_lsclusters -h 2>/dev/null | awk -v c="$PG_CLUSTER" '$2 == c { print $1; exit }')
  [[ -n "$version" ]] || version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
  echo "$version"
}

pg_port() { pg_lsclusters -h 2>/dev/null | awk -v v="$(pg_version)" -v c="$PG_CLUSTER" '$1 == v && $2 == c { print $3 }'; }

pg_online() { pg_lsclusters -h 2>/dev/null | awk -v v="$(pg_version)" -v c="$PG_CLUSTER" '$1 == v && $2 == c { print $4 }' | grep -q online; }

psql_admin() { runuser -u postgres -- psql -X -q -At -p "$(pg_port)" "$@"; }

start_postgresql() {
  local version
  version=$(pg_version)
  [[ -n "$version" ]] || fail "no PostgreSQL server found under /usr/lib/postgresql" "apt-get install postgresql"
  install -d -o postgres -g postgres -m 2775 /run/postgresql
  if ! pg_lsclusters -h 2>/dev/null | awk '{ print $1 " " $2 }' | grep -qx "$version $PG_CLUSTER"; then
    say "creating the PostgreSQL cluster $version/$PG_CLUSTER"
    pg_createcluster "$version" "$PG_CLUSTER" >"$LOG/pg_createcluster.log" 2>&1 ||
      fail "pg_createcluster $version $PG_CLUSTER failed" "see $LOG/pg_createcluster.log"
  fi
  if pg_online; then
    if [[ -e "$RUN/postgresql.started" ]]; then
      say "PostgreSQL $version/$PG_CLUSTER running (started by this script)"
    else
      say "using the PostgreSQL $version/$PG_CLUSTER already running (not started by this script, so 'stop' leaves it)"
    fi
  else
    say "starting PostgreSQL $version/$PG_CLUSTER"
    pg_ctlcluster "$version" "$PG_CLUSTER" start ||
      fail "PostgreSQL $version/$PG_CLUSTER did not start" "see /var/log/postgresql/postgresql-$version-$PG_CLUSTER.log"
    touch "$RUN/postgresql.started"
  fi
  wait_for 30 PostgreSQL psql_admin -c 'SELECT 1' ||
    fail "PostgreSQL does not answer" "see /var/log/postgresql/postgresql-$version-$PG_CLUSTER.log"
}

# Edits oar.conf in place (it holds many packaged defaults); CONF_CHANGED=1 when that changed it.
configure() {
  [[ -f "$CONF.baton-orig" ]] || cp -p "$CONF" "$CONF.baton-orig"
  local new
  new=$(mktemp)
  cp "$CONF" "$new"
  set_conf "$new" DB_TYPE Pg
  set_conf "$new" DB_HOSTNAME 127.0.0.1
  set_conf "$new" DB_PORT "$(pg_port)"
  set_conf "$new" DB_BASE_PASSWD "$DB_PASS"
  set_conf "$new" DB_BASE_PASSWD_RO "$DB_RO_PASS"
  set_conf "$new" SERVER_HOSTNAME localhost
  set_conf "$new" SERVER_PORT "$SERVER_PORT"
  set_conf "$new" LOG_FILE "$OAR_LOG"
  set_conf "$new" LOG_LEVEL 2
  # start a job ~1 s after its submission instead of ~10 s
  set_conf "$new" SCHEDULER_MIN_TIME_BETWEEN_2_CALLS 0
  # no cpuset/cgroup job-resource-manager: the packaged one purges the job user's /tmp files
  unset_conf "$new" JOB_RESOURCE_MANAGER_PROPERTY_DB_FIELD
  unset_conf "$new" CPUSET_PATH
  CONF_CHANGED=0
  if ! cmp -s "$new" "$CONF"; then
    cat "$new" >"$CONF"
    CONF_CHANGED=1
  fi
  rm -f "$new"
  # the commands (setuid through oardodo) read it as oar; it holds the database passwords
  chown oar:root "$CONF"
  chmod 600 "$CONF"
  touch "$OAR_LOG"
  chown oar:root "$OAR_LOG"
}

set_conf() { # set_conf FILE KEY VALUE: uncomments or adds KEY="VALUE"
  if grep -qE "^#?$2=" "$1"; then
    sed -i -E "0,/^#?$2=/s|^#?$2=.*|$2=\"$3\"|" "$1"
  else
    echo "$2=\"$3\"" >>"$1"
  fi
}

unset_conf() { sed -i -E "s|^($2=)|#\1|" "$1"; }

setup_database() {
  # roles outlive a dropped database, and the recipe set other passwords: make them match oar.conf
  psql_admin -c "DO \$\$BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'oar') THEN ALTER ROLE oar PASSWORD '$DB_PASS'; END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'oar_ro') THEN ALTER ROLE oar_ro PASSWORD '$DB_RO_PASS'; END IF;
    END\$\$;" >/dev/null
  if ! oar-database --check >/dev/null 2>&1; then
    say "creating the OAR database"
    oar-database --create --db-is-local -y >"$LOG/oar-database.log" 2>&1 || {
      tail -n 20 "$LOG/oar-database.log" >&2
      fail "oar-database --create failed" "see $LOG/oar-database.log; 'bash $0 clean' drops a half-made database"
    }
  fi
  local properties
  properties=$(oarproperty -l)
  grep -qx host <<<"$properties" || oarproperty -q -c -a host
  grep -qx cpu <<<"$properties" || oarproperty -q -a cpu
  grep -qx core <<<"$properties" || oarproperty -q -a core
}

# The server runs jobs on the node over ssh as oar (port 6667) with the key pair the package made.
setup_node_ssh() {
  local ssh=/var/lib/oar/.ssh
  if [[ ! -s "$ssh/id_rsa" ]]; then
    say "making the oar user's ssh keys"
    install -d -o oar -g oar -m 700 "$ssh"
    rm -f "$ssh/id_rsa" "$ssh/id_rsa.pub"
    runuser -u oar -- ssh-keygen -q -t rsa -N '' -f "$ssh/id_rsa"
    echo "environment=\"OAR_KEY=1\" $(cat "$ssh/id_rsa.pub")" >"$ssh/authorized_keys"
    printf 'Host *\nForwardX11 no\nStrictHostKeyChecking no\nPasswordAuthentication no\nAddressFamily inet\n' >"$ssh/config"
    chown oar:oar "$ssh"/*
  fi
  [[ -s /etc/oar/oar_ssh_host_rsa_key ]] || ssh-keygen -q -t rsa -N '' -f /etc/oar/oar_ssh_host_rsa_key
}

start_node_sshd() {
  refuse_foreign_port "$NODE_PORT" "oar-node sshd"
  install -d -m 755 /run/sshd # privilege separation directory, normally made by systemd
  local log="$LOG/node-sshd.log"
  # daemonizes once bound, then writes the pid file; -E: its log in a file of ours (it logs to syslog)
  /usr/sbin/sshd -f /etc/oar/sshd_config -o "PidFile=$(pid_file node-sshd)" -o ListenAddress=127.0.0.1 -E "$log" ||
    { tail_file "$log"; fail "the oar-node sshd did not start" "see $log"; }
  wait_for 10 "oar-node sshd" runuser -u oar -- /usr/bin/ssh -p "$NODE_PORT" -e none -o BatchMode=yes 127.0.0.1 true ||
    { tail_file "$log"; fail "the server cannot ssh to the node as oar (127.0.0.1:$NODE_PORT)" "see $log"; }
  say "oar-node sshd up on 127.0.0.1:$NODE_PORT (pid $(cat "$(pid_file node-sshd)"))"
}

start_almighty() {
  if daemon_running almighty; then
    say "Almighty already running (pid $(cat "$(pid_file almighty)"))"
  else
    [[ -e "$RUN/almighty.pid" ]] && rm -f "$RUN/almighty.pid"
    refuse_foreign_port "$SERVER_PORT" Almighty
    oar-database --check >/dev/null 2>&1 || fail "the OAR database is not ready (oar-database --check)" "run: bash $0 start"
    # what /usr/sbin/oar-server does, with a pid file of ours: a new session (so its helpers share its
    # process group, which `stop` signals), then the setuid wrapper that runs Almighty as oar
    start-stop-daemon --start --background --make-pidfile --pidfile "$(pid_file almighty)" \
      --output "$LOG/almighty.out" --chdir / --startas /usr/sbin/Almighty
  fi
  wait_for 20 Almighty server_listening ||
    { tail_file "$OAR_LOG"; fail "Almighty does not listen on :$SERVER_PORT" "see $OAR_LOG and $LOG/almighty.out"; }
  # jobs that ended, oardel requests and submissions made while it was down; the same one-line
  # notifications oarsub and oardel send
  notify_almighty Villains
  notify_almighty Qdel
  notify_almighty Scheduling
  say "Almighty up on :$SERVER_PORT (pid $(cat "$(pid_file almighty)"))"
}

notify_almighty() { (printf '%s\n' "$1" >"/dev/tcp/127.0.0.1/$SERVER_PORT") 2>/dev/null || true; }

server_listening() { daemon_running almighty && [[ -n "$(ss -Hltn "sport = :$SERVER_PORT")" ]]; }

# Resources with core 1..CORES on the node are made Alive (added when missing), any other Dead.
set_resources() {
  local host=$1 id core state wanted seen=" "
  while IFS='|' read -r id core state; do
    [[ -n "$id" ]] || continue
    wanted=Dead
    if [[ "$core" =~ ^[0-9]+$ ]] && ((core >= 1 && core <= CORES)) && [[ "$seen" != *" $core "* ]]; then
      wanted=Alive
      seen+="$core "
    fi
    if [[ "$state" != "$wanted" ]]; then
      say "resource $id (core ${core:-none}): $state -> $wanted"
      oarnodesetting -n -r "$id" -s "$wanted" >/dev/null
    fi
  done < <(psql_admin -d oar -F '|' -c "SELECT resource_id, core, state FROM resources
    WHERE network_address = '$host' ORDER BY resource_id")
  local added=()
  for core in $(seq 1 "$CORES"); do
    [[ "$seen" == *" $core "* ]] && continue
    oarnodesetting -a -h "$host" -p host="$host" -p cpu=1 -p core="$core" -p cpuset=$((core - 1)) >/dev/null
    added+=("$core")
  done
  [[ ${#added[@]} == 0 ]] || say "node $host: added resources for cores ${added[*]}"
}

wait_for_resources() {
  local host=$1
  wait_for 30 "$CORES Alive resources" bash -c "[[ \$(oarnodes -s '$host' | grep -c ': Alive\$') == $CORES ]]" || {
    oarnodes -s >&2 || true
    tail_file "$OAR_LOG"
    fail "oarnodes does not show $CORES Alive resources on $host" "see $OAR_LOG"
  }
}

smoke_test() {
  local dir job state="" output
  dir=$(runuser -u "$TEST_USER" -- mktemp -d "$(user_home)/oar-smoke.XXXXXX")
  # shellcheck disable=SC2016 # $OAR_JOB_ID expands in the job, not here
  output=$(runuser -u "$TEST_USER" -- bash -c 'cd "$1" && oarsub -n baton-smoke -l /core=1,walltime=0:05:00 -O smoke.%jobid%.out -E smoke.%jobid%.err "echo hello from OAR job \$OAR_JOB_ID; pwd"' \
    oarsub "$dir" 2>&1) || { echo "$output" >&2; fail "oarsub of the smoke job failed" "see $OAR_LOG"; }
  job=$(sed -n 's/^OAR_JOB_ID=//p' <<<"$output")
  [[ -n "$job" ]] || { echo "$output" >&2; fail "oarsub printed no OAR_JOB_ID" "see $OAR_LOG"; }
  for _ in $(seq 1 600); do
    state=$(oarstat -s -j "$job" 2>/dev/null | sed -n "s/^$job: //p")
    [[ "$state" == Terminated || "$state" == Error ]] && break
    sleep 0.1
  done
  if [[ "$state" != Terminated ]] || ! grep -q "hello from OAR job $job" "$dir/smoke.$job.out" 2>/dev/null; then
    tail_file "$OAR_LOG"
    fail "smoke job $job did not terminate (${state:-no state}) or wrote no output in $dir" "see $OAR_LOG"
  fi
  rm -rf "$dir"
  say "smoke job $job terminated"
}

stop_cluster() {
  stop_almighty
  stop_node_sshd
  if [[ -e "$RUN/postgresql.started" ]]; then
    if pg_online; then
      say "stopping PostgreSQL $(pg_version)/$PG_CLUSTER"
      pg_ctlcluster "$(pg_version)" "$PG_CLUSTER" stop || true
    fi
    rm -f "$RUN/postgresql.started"
  fi
  rm -f "$RUN/cores"
  say "stopped"
}

stop_almighty() {
  if daemon_running almighty; then
    local pid
    pid=$(cat "$(pid_file almighty)")
    say "stopping Almighty (pid $pid) and its process group"
    stop_process_group "$pid"
  fi
  rm -f "$(pid_file almighty)"
}

stop_node_sshd() {
  if daemon_running node-sshd; then
    local pid
    pid=$(cat "$(pid_file node-sshd)")
    say "stopping the oar-node sshd (pid $pid) and its sessions"
    stop_pids_and_children "$pid"
  fi
  rm -f "$(pid_file node-sshd)"
}

# Almighty's helpers (appendice, bipbip, sarko, the scheduler) share its process group and ignore
# SIGTERM: TERM the group, wait for Almighty itself, then KILL whatever is left of the group.
stop_process_group() {
  local pid=$1 group
  group=$(ps -o pgid= -p "$pid" | tr -d ' ')
  [[ -n "$group" && "$group" != 0 && "$group" != 1 ]] || group=""
  if [[ -n "$group" ]]; then kill -TERM -- "-$group" 2>/dev/null || true; else kill -TERM "$pid" 2>/dev/null || true; fi
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && say "pid $pid still alive after 10 s, sending SIGKILL"
  if [[ -n "$group" ]]; then kill -KILL -- "-$group" 2>/dev/null || true; else kill -KILL "$pid" 2>/dev/null || true; fi
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

stop_pids_and_children() {
  local pid=$1
  # sessions (the server's ssh commands) are children of the listener and outlive it; end them too (by parent pid)
  pkill -TERM -P "$pid" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid still alive after 5 s, sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
}

show_status() {
  local all_up=0 host
  host=$(hostname -s)
  if pg_online; then
    if [[ -e "$RUN/postgresql.started" ]]; then
      echo "postgresql: running ($(pg_version)/$PG_CLUSTER, started by this script)"
    else
      echo "postgresql: running ($(pg_version)/$PG_CLUSTER, not started by this script)"
    fi
  else
    echo "postgresql: stopped"
    all_up=1
  fi
  if daemon_running node-sshd; then
    echo "oar-node sshd: running on 127.0.0.1:$NODE_PORT (pid $(cat "$(pid_file node-sshd)"))"
  else
    echo "oar-node sshd: stopped"
    all_up=1
  fi
  if server_listening; then
    echo "Almighty: running on :$SERVER_PORT (pid $(cat "$(pid_file almighty)"))"
  elif daemon_running almighty; then
    echo "Almighty: running (pid $(cat "$(pid_file almighty)")) but not listening on :$SERVER_PORT"
    all_up=1
  else
    echo "Almighty: stopped"
    all_up=1
  fi
  process_is "$OTHER_SERVER_PID" Almighty && echo "note: another Almighty runs (pid $(cat "$OTHER_SERVER_PID"), $OTHER_SERVER_PID); 'start' stops it"
  local expected alive=0
  expected=$(cat "$RUN/cores" 2>/dev/null || echo "")
  if pg_online; then
    alive=$(oarnodes -s "$host" 2>/dev/null | grep -c ': Alive$' || true)
  fi
  if [[ -n "$expected" && "$alive" == "$expected" ]]; then
    echo "resources: $alive Alive on $host"
  else
    echo "resources: $alive Alive on $host (expected ${expected:-none: not started})"
    all_up=1
  fi
  [[ $all_up == 0 ]] || echo "start it with: bash $0 start"
  return $all_up
}

clean() {
  stop_almighty
  stop_node_sshd
  end_leftover_jobs
  if dpkg -s oar-server >/dev/null 2>&1 && [[ -n "$(pg_version)" ]]; then
    mkdir -p "$RUN" "$LOG"
    start_postgresql
    psql_admin -c 'DROP DATABASE IF EXISTS oar' >/dev/null
    say "dropped the OAR database"
  fi
  stop_cluster
  : >"$OAR_LOG" 2>/dev/null || true
  rm -rf "$RUN"
  say "clean (packages, oar.conf, roles oar/oar_ro and user $TEST_USER kept)"
}

# Jobs outlive Almighty and the node sshd (their oarexec detaches: DETACH_JOB_FROM_SERVER=1). Once
# the database is dropped their ids are given to new jobs, so `clean` ends them, found through
# OAR's own pid files and checked like ours.
end_leftover_jobs() {
  local file pid
  for file in /var/lib/oar/pid_of_oarexec_for_jobId_*; do
    [[ -f "$file" ]] || continue
    pid=$(cat "$file")
    if [[ "$pid" =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q ' OAREXEC'; then
      say "ending job ${file##*_} (oarexec pid $pid) and its processes"
      kill_tree "$pid"
    fi
    rm -f "$file"
  done
}

kill_tree() { # children first, so none is re-parented out of reach
  local child
  for child in $(ps -o pid= --ppid "$1"); do kill_tree "$child"; done
  kill -KILL "$1" 2>/dev/null || true
}

refuse_foreign_port() { # refuse_foreign_port PORT WHAT
  if [[ -n "$(ss -Hltn "sport = :$1")" ]]; then
    fail "port $1 (the $2) is already in use by a process this script did not start" \
      "stop that OAR first (e.g. 'bash oar-single-node.sh stop' for the shared recipe, '/etc/init.d/oar-server stop'), then run: bash $0 start"
  fi
}

# A pid file counts only when its process is alive and is the daemon it names, so a stale
# file whose pid was reused never makes us signal an unrelated process.
process_is() { # process_is PIDFILE COMM
  local pid
  [[ -s "$1" ]] || return 1
  pid=$(cat "$1")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$2" ]]
}

daemon_running() {
  case "$1" in
    almighty) process_is "$(pid_file almighty)" Almighty ;;
    # only the sshd started with our pid file, not the recipe's or the machine's own
    node-sshd) process_is "$(pid_file node-sshd)" sshd &&
      tr '\0' ' ' <"/proc/$(cat "$(pid_file node-sshd)")/cmdline" 2>/dev/null | grep -qF -- "$(pid_file node-sshd)" ;;
    *) return 1 ;;
  esac
}

pid_file() { echo "$RUN/$1.pid"; }

user_home() { getent passwd "$TEST_USER" | cut -d: -f6; }

tail_file() {
  [[ -f "$1" ]] || return 0
  echo "---- last lines of $1" >&2
  tail -n 25 "$1" >&2 || true
}

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
  [[ "$(id -u)" == 0 ]] || fail "this command needs root (it installs packages, adds a user and starts daemons)" "run it with sudo"
}

say() { echo "[oar-cluster $(date +%T)] $*"; }

fail() {
  echo "[oar-cluster] error: $1" >&2
  [[ -n "${2:-}" ]] && echo "[oar-cluster] hint: $2" >&2
  exit 1
}

main "$@"
