// How an argv becomes the one command string an SSH exec request carries: every
// word quoted for the remote POSIX shell (the user's login shell runs it), so
// parameters stay data. The script prints its own pid first, on a line of its
// stdout, so that a command past its timeout can be killed on the host.
import { shellJoin, shellQuote } from '@baton/core';

export interface RemoteCommandOptions {
  cwd?: string;
  env?: Record<string, string>;
}

/** Marks the line that carries the pid, so it is never taken for the command's output. */
export const PID_PREFIX = '\u0001baton-pid ';

export function remoteCommand(argv: readonly string[], options: RemoteCommandOptions = {}): string {
  const lines = [`printf '%s%s\\n' ${shellQuote(PID_PREFIX)} "$$"`];
  if (options.cwd !== undefined) lines.push(`cd ${shellQuote(options.cwd)} || exit 126`);
  for (const [name, value] of Object.entries(options.env ?? {})) lines.push(`export ${name}=${shellQuote(value)}`);
  lines.push(`exec ${shellJoin(argv)}`);
  return lines.join('\n');
}

/**
 * A detached process: its own session and process group (setsid, pgid = pid),
 * stdin from /dev/null, output appended to the job's files; prints its pid.
 *
 * Idempotent per `token`: the first run claims `.baton-spawn-<token>` in the
 * working folder (an atomic mkdir) and records the pid there; a second run with
 * the same token (the answer of the first was lost with the connection) prints
 * that pid instead of starting the command again.
 */
export function detachedCommand(argv: readonly string[], options: { cwd: string; stdoutPath: string; stderrPath: string; env?: Record<string, string>; token: string }): string {
  const claim = shellQuote(`.baton-spawn-${options.token}`);
  const lines = [`cd ${shellQuote(options.cwd)} || exit 126`];
  for (const [name, value] of Object.entries(options.env ?? {})) lines.push(`export ${name}=${shellQuote(value)}`);
  lines.push(
    "command -v setsid >/dev/null 2>&1 || { echo 'setsid: not found on this host (util-linux); Baton needs it to start detached jobs' >&2; exit 127; }",
    // Started already: wait for its pid (the first run may still be writing it).
    `if ! mkdir ${claim} 2>/dev/null; then`,
    `  i=0; while [ ! -s ${claim}/pid ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done`,
    `  cat ${claim}/pid 2>/dev/null || { echo 'an earlier start of this process left no pid' >&2; exit 125; }`,
    '  exit 0',
    'fi',
    `setsid ${shellJoin(argv)} </dev/null >>${shellQuote(options.stdoutPath)} 2>>${shellQuote(options.stderrPath)} &`,
    `echo "$!" > ${claim}/pid.tmp && mv ${claim}/pid.tmp ${claim}/pid`,
    'echo "$!"',
  );
  return lines.join('\n');
}
