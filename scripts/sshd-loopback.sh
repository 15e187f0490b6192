#!/usr/bin/env bash
# Three real OpenSSH servers on 127.0.0.1 for the SSH connector's integration tests and CI.
# Debian 12 (OpenSSH 9.2), run as root, no systemd needed. Key-only, test user `batontest`.
#
#   bash scripts/sshd-loopback.sh start    install if missing, keys, user, config, start, check with `ssh` (default)
#   bash scripts/sshd-loopback.sh stop     stop the three servers this script started (and their sessions)
#   bash scripts/sshd-loopback.sh status   one line per server; exit 0 only when all three run
#   bash scripts/sshd-loopback.sh clean    stop, drop the test keys from batontest's authorized_keys,
#                                          delete $BATON_SSHD_DIR (the user is kept)
#
# The servers:
#   main  127.0.0.1:2222  MaxSessions 10        what most tests connect to
#   jump  127.0.0.1:2223  AllowTcpForwarding    a ProxyJump host in front of main
#   few   127.0.0.1:2224  MaxSessions 2         a server that allows few channels per connection
#
# Environment:
#   BATON_SSHD_DIR=/tmp/baton-sshd   keys, configs, logs, pid files, and the `env` file tests read
#   BATON_SSHD_PORT=2222  BATON_SSHD_JUMP_PORT=2223  BATON_SSHD_FEW_PORT=2224
#
# After `start`, $BATON_SSHD_DIR holds:
#   id_ed25519            client key (no passphrase), authorized for batontest
#   id_ed25519_pass       client key with the passphrase in id_ed25519_pass.passphrase, authorized (agent tests)
#   id_ed25519_wrong      client key NOT authorized
#   known_hosts           [127.0.0.1]:PORT lines for the three servers; known_hosts.hashed the same hashed
#                         (ssh-keygen -H); known_hosts.changed another key for the main server; known_hosts.empty
#   ssh_config            Host baton-loopback, baton-jump, baton-via-jump (ProxyJump), baton-few:
#                         ssh -F $BATON_SSHD_DIR/ssh_config baton-loopback 'id -un'
#   env                   KEY=VALUE lines (BATON_SSH_HOST, BATON_SSH_PORT, ...) for test code
#   sshd-<name>.conf .pid .log   per server (LogLevel VERBOSE)
#
# `start` is idempotent: a server already running with the same configuration is left alone (its
# sessions survive); one whose configuration changed is restarted. Keys are made once and kept.
# Servers are stopped by the pid files this script owns, never by name.
set -euo pipefail

readonly DIR="${BATON_SSHD_DIR:-/tmp/baton-sshd}"
readonly TEST_USER=batontest
readonly LISTEN=127.0.0.1
readonly INSTANCES=(main jump few)
readonly APT_LOG=/tmp/baton-sshd-apt.log

main() {
  case "${1:-start}" in
    start) require_root; start_servers ;;
    stop) require_root; stop_servers "${INSTANCES[@]}" ;;
    status) show_status ;;
    clean) require_root; clean ;;
    *) echo "usage: bash $0 start | stop | status | clean" >&2; exit 2 ;;
  esac
}

start_servers() {
  local started=$SECONDS name
  install_packages
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  make_keys
  make_user
  write_client_files
  install -d -m 755 /run/sshd # privilege separation directory, normally made by systemd
  for name in "${INSTANCES[@]}"; do start_server "$name"; done
  check_servers
  say "ready in $((SECONDS - started)) s; try: ssh -F $DIR/ssh_config baton-loopback id; stop with: bash $0 stop"
}

install_packages() {
  if dpkg -s openssh-server >/dev/null 2>&1 && dpkg -s openssh-client >/dev/null 2>&1; then return 0; fi
  say "apt-get install openssh-server openssh-client"
  local started=$SECONDS temporary_policy=0
  # Without systemd, the postinst would start the system sshd on :22 through /etc/init.d;
  # a policy-rc.d that exits 101 forbids that, so only this script starts servers.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    temporary_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT # also when interrupted mid-install
  fi
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends openssh-server openssh-client)
  if ! "${apt[@]}" >"$APT_LOG" 2>&1; then
    # an image with an empty or stale package index: refresh it once
    apt-get -o DPkg::Lock::Timeout=300 update >>"$APT_LOG" 2>&1 || true
    "${apt[@]}" >>"$APT_LOG" 2>&1 || {
      tail -n 20 "$APT_LOG" >&2
      fail "apt-get install openssh-server openssh-client failed" "see $APT_LOG"
    }
  fi
  if [[ $temporary_policy == 1 ]]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  say "installed in $((SECONDS - started)) s"
}

make_keys() {
  local name
  for name in "${INSTANCES[@]}"; do new_key "$DIR/host_${name}_ed25519" "baton-sshd-$name" ''; done
  # another key for the main server's address: what known_hosts.changed says it should present
  new_key "$DIR/host_changed_ed25519" baton-sshd-changed ''
  new_key "$DIR/id_ed25519" "$TEST_USER@baton-loopback" ''
  new_key "$DIR/id_ed25519_wrong" "not-authorized@baton-loopback" ''
  if [[ ! -s "$DIR/id_ed25519_pass.passphrase" ]]; then
    rm -f "$DIR/id_ed25519_pass" "$DIR/id_ed25519_pass.pub"
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/id_ed25519_pass.passphrase")
  fi
  new_key "$DIR/id_ed25519_pass" "$TEST_USER-agent@baton-loopback" "$(cat "$DIR/id_ed25519_pass.passphrase")"
  # tests run as root; ssh refuses a private key that others may read
  chown root:root "$DIR"/host_*_ed25519 "$DIR"/id_ed25519 "$DIR"/id_ed25519_pass "$DIR"/id_ed25519_wrong "$DIR/id_ed25519_pass.passphrase"
  chmod 600 "$DIR"/host_*_ed25519 "$DIR"/id_ed25519 "$DIR"/id_ed25519_pass "$DIR"/id_ed25519_wrong "$DIR/id_ed25519_pass.passphrase"
  chmod 644 "$DIR"/*.pub
}

new_key() { # new_key FILE COMMENT PASSPHRASE: made once, kept across starts
  [[ -s "$1" && -s "$1.pub" ]] && return 0
  rm -f "$1" "$1.pub"
  ssh-keygen -q -t ed25519 -N "$3" -C "$2" -f "$1"
}

make_user() {
  id "$TEST_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$TEST_USER"
  # useradd leaves the password field '!', a locked account, which sshd refuses even with a key
  # when UsePAM is off; '*' has no usable password but is not locked.
  [[ "$(getent shadow "$TEST_USER" | cut -d: -f2)" == '*' ]] || usermod -p '*' "$TEST_USER"
  local home key authorized
  home=$(getent passwd "$TEST_USER" | cut -d: -f6)
  [[ -d "$home" ]] || install -d -o "$TEST_USER" -g "$TEST_USER" -m 755 "$home"
  install -d -o "$TEST_USER" -g "$TEST_USER" -m 700 "$home/.ssh"
  authorized="$home/.ssh/authorized_keys"
  touch "$authorized"
  for key in "$DIR/id_ed25519.pub" "$DIR/id_ed25519_pass.pub"; do
    grep -qxF "$(cat "$key")" "$authorized" || cat "$key" >>"$authorized"
  done
  chown "$TEST_USER:$TEST_USER" "$authorized"
  chmod 600 "$authorized"
}

write_client_files() {
  local main_port jump_port few_port
  main_port=$(port_of main)
  jump_port=$(port_of jump)
  few_port=$(port_of few)
  {
    echo "[$LISTEN]:$main_port $(host_key main)"
    echo "[$LISTEN]:$jump_port $(host_key jump)"
    echo "[$LISTEN]:$few_port $(host_key few)"
  } >"$DIR/known_hosts"
  cp "$DIR/known_hosts" "$DIR/known_hosts.hashed"
  ssh-keygen -q -H -f "$DIR/known_hosts.hashed" >/dev/null 2>&1 # it warns about the .old copy it leaves
  rm -f "$DIR/known_hosts.hashed.old"
  echo "[$LISTEN]:$main_port $(host_key changed)" >"$DIR/known_hosts.changed"
  : >"$DIR/known_hosts.empty"

  {
    echo "# Written by baton scripts/sshd-loopback.sh; rewritten at every start."
    client_host baton-loopback "$main_port"
    client_host baton-jump "$jump_port"
    client_host baton-via-jump "$main_port" "ProxyJump baton-jump"
    client_host baton-few "$few_port"
  } >"$DIR/ssh_config"

  cat >"$DIR/env" <<EOF
BATON_SSH_HOST=$LISTEN
BATON_SSH_PORT=$main_port
BATON_SSH_JUMP_PORT=$jump_port
BATON_SSH_FEW_PORT=$few_port
BATON_SSH_USER=$TEST_USER
BATON_SSH_KEY=$DIR/id_ed25519
BATON_SSH_PASS_KEY=$DIR/id_ed25519_pass
BATON_SSH_PASSPHRASE_FILE=$DIR/id_ed25519_pass.passphrase
BATON_SSH_WRONG_KEY=$DIR/id_ed25519_wrong
BATON_SSH_KNOWN_HOSTS=$DIR/known_hosts
BATON_SSH_KNOWN_HOSTS_HASHED=$DIR/known_hosts.hashed
BATON_SSH_KNOWN_HOSTS_CHANGED=$DIR/known_hosts.changed
BATON_SSH_KNOWN_HOSTS_EMPTY=$DIR/known_hosts.empty
BATON_SSH_CONFIG=$DIR/ssh_config
BATON_SSHD_DIR=$DIR
BATON_SSHD_PIDFILE=$(pid_file main)
BATON_SSHD_JUMP_PIDFILE=$(pid_file jump)
BATON_SSHD_FEW_PIDFILE=$(pid_file few)
EOF
  chmod 644 "$DIR"/known_hosts* "$DIR/ssh_config" "$DIR/env"
}

client_host() { # client_host ALIAS PORT [EXTRA OPTION]
  cat <<EOF

Host $1
  HostName $LISTEN
  Port $2
  User $TEST_USER
  IdentityFile $DIR/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $DIR/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
EOF
  [[ -n "${3:-}" ]] && echo "  $3"
  return 0
}

render_server_config() {
  local name=$1 forwarding=no sessions=10
  [[ "$name" == jump ]] && forwarding=yes
  [[ "$name" == few ]] && sessions=2
  local sftp=internal-sftp
  [[ -x /usr/lib/openssh/sftp-server ]] && sftp=/usr/lib/openssh/sftp-server # Debian's default
  # No AcceptEnv, as on most servers: a connector must not rely on the `env` channel request.
  cat <<EOF
# Written by baton scripts/sshd-loopback.sh ($name); rewritten at every start.
Port $(port_of "$name")
ListenAddress $LISTEN
HostKey $DIR/host_${name}_ed25519
PidFile $(pid_file "$name")
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
UsePAM no
PermitRootLogin no
AllowUsers $TEST_USER
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
AllowTcpForwarding $forwarding
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
MaxSessions $sessions
# many tests connect at once; the default 10:30:100 drops unauthenticated connections past 10
MaxStartups 100:30:200
LogLevel VERBOSE
Subsystem sftp $sftp
EOF
}

start_server() {
  local name=$1 config port log
  config=$(render_server_config "$name")
  port=$(port_of "$name")
  log=$(log_file "$name")
  if server_running "$name" && same_file "$(config_file "$name")" "$config"; then
    say "sshd $name already running on $LISTEN:$port (pid $(cat "$(pid_file "$name")")) with this configuration"
    return 0
  fi
  stop_servers "$name"
  if (exec 3<>"/dev/tcp/$LISTEN/$port") 2>/dev/null; then
    fail "port $port is already in use by a process this script did not start" \
      "stop it (e.g. 'bash sshd-loopback.sh stop' of another BATON_SSHD_DIR), or choose another port with BATON_SSHD_$(port_variable "$name")"
  fi
  printf '%s\n' "$config" >"$(config_file "$name")"
  /usr/sbin/sshd -t -f "$(config_file "$name")" 2>>"$log" ||
    { tail_log "$name"; fail "sshd -t refused $(config_file "$name")" "see $log"; }
  # daemonizes once bound, then writes the pid file; -E: log to a file of our own
  /usr/sbin/sshd -f "$(config_file "$name")" -E "$log" ||
    { tail_log "$name"; fail "sshd $name did not start" "see $log"; }
  wait_for 10 "sshd $name" server_running "$name" ||
    { tail_log "$name"; fail "sshd $name wrote no pid file" "see $log"; }
}

# Each server through the real client, as a test would reach it.
check_servers() {
  local name alias output
  for name in "${INSTANCES[@]}"; do
    case "$name" in
      main) alias=baton-loopback ;;
      jump) alias=baton-via-jump ;;
      few) alias=baton-few ;;
    esac
    if ! output=$(wait_for_ssh "$alias"); then
      echo "$output" >&2
      tail_log "$name"
      [[ "$name" == jump ]] && tail_log main
      fail "ssh -F $DIR/ssh_config $alias does not answer" "see $(log_file "$name")"
    fi
    say "sshd $name: $LISTEN:$(port_of "$name") pid $(cat "$(pid_file "$name")"), ssh $alias -> $output"
  done
}

wait_for_ssh() {
  local alias=$1 output
  for _ in $(seq 1 50); do
    # shellcheck disable=SC2016 # expanded by the remote shell
    if output=$(ssh -F "$DIR/ssh_config" "$alias" 'echo "$(id -un)@$(hostname) in $HOME"' 2>&1); then
      echo "$output"
      return 0
    fi
    sleep 0.2
  done
  echo "$output"
  return 1
}

stop_servers() {
  local name pid pids=()
  for name in "$@"; do
    if server_running "$name"; then
      pid=$(cat "$(pid_file "$name")")
      say "stopping sshd $name (pid $pid) and its sessions"
      # sessions are children of the listener and outlive it; end them too (by parent pid)
      pkill -TERM -P "$pid" 2>/dev/null || true
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid still alive after 5 s, sending SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  for name in "$@"; do rm -f "$(pid_file "$name")"; done
}

show_status() {
  local name all_up=0
  for name in "${INSTANCES[@]}"; do
    if server_running "$name"; then
      # the port it was started with, whatever this shell's BATON_SSHD_*PORT say
      echo "sshd $name: running on $LISTEN:$(sed -n 's/^Port //p' "$(config_file "$name")") (pid $(cat "$(pid_file "$name")"))"
    else
      echo "sshd $name: stopped"
      all_up=1
    fi
  done
  [[ $all_up == 0 ]] && echo "tests read: $DIR/env"
  [[ $all_up == 0 ]] || echo "start them with: bash $0 start"
  return $all_up
}

clean() {
  stop_servers "${INSTANCES[@]}"
  local home authorized key
  home=$(getent passwd "$TEST_USER" | cut -d: -f6 || true)
  authorized="$home/.ssh/authorized_keys"
  if [[ -n "$home" && -f "$authorized" ]]; then
    for key in "$DIR/id_ed25519.pub" "$DIR/id_ed25519_pass.pub"; do
      [[ -s "$key" ]] || continue
      grep -vxF "$(cat "$key")" "$authorized" >"$authorized.tmp" || true
      cat "$authorized.tmp" >"$authorized"
      rm -f "$authorized.tmp"
    done
  fi
  rm -rf "$DIR"
  say "removed $DIR (user $TEST_USER kept)"
}

# A pid file counts only when its process is alive and is an sshd reading our config file, so a
# stale file whose pid was reused never makes us signal an unrelated process.
server_running() {
  local file pid
  file=$(pid_file "$1")
  [[ -s "$file" ]] || return 1
  pid=$(cat "$file")
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == sshd ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(config_file "$1")"
}

port_of() {
  case "$1" in
    main) echo "${BATON_SSHD_PORT:-2222}" ;;
    jump) echo "${BATON_SSHD_JUMP_PORT:-2223}" ;;
    few) echo "${BATON_SSHD_FEW_PORT:-2224}" ;;
  esac
}

port_variable() {
  case "$1" in
    main) echo PORT ;;
    jump) echo JUMP_PORT ;;
    few) echo FEW_PORT ;;
  esac
}

host_key() { cut -d' ' -f1,2 "$DIR/host_${1}_ed25519.pub"; }
pid_file() { echo "$DIR/sshd-$1.pid"; }
config_file() { echo "$DIR/sshd-$1.conf"; }
log_file() { echo "$DIR/sshd-$1.log"; }

tail_log() {
  local log
  log=$(log_file "$1")
  [[ -f "$log" ]] || return 0
  echo "---- last lines of $log" >&2
  tail -n 25 "$log" >&2 || true
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
  [[ "$(id -u)" == 0 ]] || fail "this command needs root (it installs packages, adds a user and starts servers)" "run it with sudo"
}

say() { echo "[sshd-loopback $(date +%T)] $*"; }

fail() {
  echo "[sshd-loopback] error: $1" >&2
  [[ -n "${2:-}" ]] && echo "[sshd-loopback] hint: $2" >&2
  exit 1
}

main "$@"
