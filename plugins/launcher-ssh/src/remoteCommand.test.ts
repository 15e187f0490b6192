import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PID_PREFIX, remoteCommand } from './remoteCommand.ts';

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
