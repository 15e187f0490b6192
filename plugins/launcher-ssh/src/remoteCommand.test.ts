import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detachedCommand, PID_PREFIX, remoteCommand } from './remoteCommand.ts';

// The command string goes to the remote login shell as is: run it through the real
// /bin/sh and bash here, as sshd would, and check that every word arrives as data.
const HOSTILE = ['$(touch /tmp/baton-pwned)', '`id`', "it's", 'a "b" c', '; rm -rf ~', 'line\nbreak', '*', '-n', 'ünïcødé', '$HOME', '\\', ''];

describe('remoteCommand', () => {
  for (const shell of ['/bin/sh', 'bash']) {
    it(`keeps hostile words as data under ${shell}, with cwd and env`, () => {
      const command = remoteCommand(['printf', '%s|', ...HOSTILE], { cwd: '/tmp', env: { BATON_X: "x'$(id)" } });
      const output = execFileSync(shell, ['-c', command], { encoding: 'utf8' });
      const [pidLine, rest] = [output.slice(0, output.indexOf('\n')), output.slice(output.indexOf('\n') + 1)];
      expect(pidLine.startsWith(PID_PREFIX)).toBe(true);
      expect(rest).toBe(`${HOSTILE.join('|')}|`);
      const env = execFileSync(shell, ['-c', remoteCommand(['sh', '-c', 'printf %s "$BATON_X"; pwd'], { cwd: '/tmp', env: { BATON_X: "x'$(id)" } })], { encoding: 'utf8' });
      expect(env.split('\n').slice(1).join('\n')).toBe("x'$(id)/tmp\n");
    });
  }
});

describe('detachedCommand', () => {
  it('starts its command once per token: run again (a lost answer), it prints the same pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-detached-'));
    try {
      const script = detachedCommand(['sh', '-c', 'echo once >> runs; sleep 30'], { cwd: dir, stdoutPath: join(dir, 'out'), stderrPath: join(dir, 'err'), token: 'abc' });
      const first = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' }).trim();
      const second = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' }).trim();
      expect(second).toBe(first);
      const pid = Number(first);
      // Its own session and group, and it ran once.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      expect([Number(fields[2]), Number(fields[3])]).toEqual([pid, pid]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readFileSync(join(dir, 'runs'), 'utf8')).toBe('once\n');
      // Another token starts another process.
      const other = execFileSync('/bin/sh', ['-c', script.replaceAll('.baton-spawn-abc', '.baton-spawn-def')], { encoding: 'utf8' }).trim();
      expect(other).not.toBe(first);
      for (const group of [pid, Number(other)]) process.kill(-group, 'SIGKILL');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
