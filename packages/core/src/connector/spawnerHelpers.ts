// The programs ProcessSpawner runs as its long-lived helper, best first. Each reads
// requests on its stdin and answers on its stdout, a line each; values are data,
// never code.
//
// Request: id, cwd, stdout path, stderr path, argc, then argc arguments.
// Answers: `S <id> <pid>` once started; `F <id>` if it could not enter cwd, or
// `F <id> <errno code> <message>` if the command could not start; `X <id>` once it
// exited. The job runs under setsid: its own session and process group (pgid = pid),
// so it outlives the experiment and can be signalled as a group. Its signals are as
// the experiment's were: nothing the helper ignores (SIGPIPE) stays ignored.
//
// python3 (Linux): posix_spawn, which glibc and musl make a vfork. The helper's
// memory is neither copied nor faulted in again: about half the CPU of perl's fork
// and exec per job on a VM, where page faults are dear (docs/benchmarks.md).
// perl: one fork and one exec per job; Debian and macOS always have it.
// sh: a few more forks per job, everywhere; its jobs start with SIGINT and SIGQUIT
// ignored (a POSIX shell's background commands do, and nothing can undo that).

/** Exit code of a helper that found it cannot run here before it started anything: try the next. */
export const HELPER_UNSUPPORTED = 3;

export const PYTHON_SPAWNER = String.raw`import errno, os, select, signal, sys
if sys.version_info < (3, 8) or not hasattr(os, "posix_spawnp"):
    sys.exit(3)
wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda signum, frame: None)
restore = [s for s in (getattr(signal, "SIGPIPE", None), getattr(signal, "SIGXFSZ", None)) if s is not None]
env = os.environb
ids = {}
def say(data):
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]
def reap():
    out = []
    while ids:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        rid = ids.pop(pid, None)
        if rid is not None:
            out.append(b"X " + rid + b"\n")
    if out:
        say(b"".join(out))
def start(rid, cwd, out, err, argv):
    try:
        os.chdir(cwd)
    except OSError:
        say(b"F " + rid + b"\n")
        return
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, b"/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666),
        (os.POSIX_SPAWN_OPEN, 2, err, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666),
    ]
    try:
        pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions, setsid=True, setsigdef=restore)
    except NotImplementedError:
        # A C library without POSIX_SPAWN_SETSID: nothing was started, the next helper takes over.
        sys.exit(3)
    except OSError as error:
        code = errno.errorcode.get(error.errno, "EIO").encode()
        say(b"F " + rid + b" " + code + b" " + (error.strerror or "cannot start").encode() + b"\n")
        return
    finally:
        # Hold no job's directory: it may be removed, or its file system unmounted, while the helper waits.
        os.chdir("/")
    ids[pid] = rid
    say(b"S " + rid + b" " + str(pid).encode() + b"\n")
pending = b""
reading = True
while reading or ids:
    ready = select.select([0, wake_r] if reading else [wake_r], [], [])[0]
    if wake_r in ready:
        try:
            while os.read(wake_r, 512):
                pass
        except BlockingIOError:
            pass
        reap()
    if reading and 0 in ready:
        data = os.read(0, 65536)
        if not data:
            reading = False
            continue
        lines = (pending + data).split(b"\n")
        pending = lines.pop()
        at = 0
        while at + 5 <= len(lines) and at + 5 + int(lines[at + 4]) <= len(lines):
            argc = int(lines[at + 4])
            start(lines[at], lines[at + 1], lines[at + 2], lines[at + 3], lines[at + 5:at + 5 + argc])
            at += 5 + argc
        if at < len(lines):
            pending = b"\n".join(lines[at:]) + b"\n" + pending
`;

export const PERL_SPAWNER = String.raw`use strict;
use warnings;
use POSIX qw(setsid WNOHANG SIGCHLD SIG_BLOCK SIG_UNBLOCK sigprocmask);
$| = 1;
$SIG{PIPE} = 'IGNORE';
my %ids;
my $chld = POSIX::SigSet->new(SIGCHLD);
$SIG{CHLD} = sub {
  while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
    my $id = delete $ids{$pid};
    print "X $id\n" if defined $id;
  }
};
sub line { my $l = <STDIN>; return undef unless defined $l; chomp $l; return $l; }
while (defined(my $id = line())) {
  my ($cwd, $out, $err, $argc) = (line(), line(), line(), line());
  my @argv = map { line() } 1 .. $argc;
  unless (-d $cwd) { print "F $id\n"; next; }
  sigprocmask(SIG_BLOCK, $chld);
  my $pid = fork();
  if (!defined $pid) { sigprocmask(SIG_UNBLOCK, $chld); print "F $id EAGAIN cannot fork\n"; next; }
  if ($pid == 0) {
    $SIG{CHLD} = 'DEFAULT';
    $SIG{PIPE} = 'DEFAULT';
    sigprocmask(SIG_UNBLOCK, $chld);
    setsid();
    chdir($cwd) or POSIX::_exit(120);
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>>', $out) or POSIX::_exit(121);
    open(STDERR, '>>', $err) or POSIX::_exit(122);
    { no warnings "exec"; exec { $argv[0] } @argv; }
    POSIX::_exit(127);
  }
  $ids{$pid} = $id;
  print "S $id $pid\n";
  sigprocmask(SIG_UNBLOCK, $chld);
}
# The caller is gone or done: stay until the last job ends, to reap it (where
# PID 1 does not reap orphans, a job would otherwise linger as a zombie).
$SIG{CHLD} = 'DEFAULT';
1 while wait() != -1;
`;

export const SH_SPAWNER = `
while IFS= read -r id && IFS= read -r cwd && IFS= read -r out && IFS= read -r err && IFS= read -r argc; do
  set --
  while [ "$argc" -gt 0 ]; do IFS= read -r arg; set -- "$@" "$arg"; argc=$((argc - 1)); done
  # The watcher runs in the background of a subshell that ends at once: this shell
  # reaps that subshell now, and keeps no job table that grows with every job.
  ( (
    cd "$cwd" 2>/dev/null || { echo "F $id"; exit 0; }
    setsid "$@" </dev/null >>"$out" 2>>"$err" &
    echo "S $id $!"
    wait "$!"
    echo "X $id"
  ) & )
done
`;
