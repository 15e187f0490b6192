import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseProcessTable, RemoteProcesses } from './remoteProcesses.ts';

describe('RemoteProcesses', () => {
  it('reads the process table of the real ps, with whole command lines', () => {
    const table = parseProcessTable(execFileSync('ps', ['-A', '-ww', '-o', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' }));
    const self = table.get(process.pid);
    expect(self).toMatchObject({ pgid: expect.any(Number), state: expect.stringMatching(/^[RS]/) });
    expect(self!.args).toContain(process.argv[1]!.split('/').pop());
  });

  it('answers the checks asked together with one table read, and a later check with a fresh one', async () => {
    const tables = ['  10    10 Ss   /bin/sh /jobs/a/job.sh\n  11    10 S    sleep 60\n  12    12 Z    [sh] <defunct>\n', '  11    10 S    sleep 60\n'];
    let reads = 0;
    const processes = new RemoteProcesses(async () => ({ code: 0, signal: null, stdout: tables[Math.min(reads++, 1)]!, stderr: '' }));
    const answers = await Promise.all([
      processes.isProcessAlive(10, '/jobs/a'),
      processes.isProcessAlive(10, '/jobs/b'),
      processes.isProcessAlive(12),
      processes.isProcessGroupAlive(10),
      processes.isProcessGroupAlive(12),
      processes.isProcessAlive(99),
    ]);
    expect(answers).toEqual([true, false, false, true, false, false]);
    expect(processes.reads).toBe(1);
    // job.sh (10) has ended since: a new check reads the table again and sees its command live on in its group.
    expect(await processes.isProcessAlive(10)).toBe(false);
    expect(await processes.isProcessGroupAlive(10)).toBe(true);
    expect(processes.reads).toBe(3);
  });

  it('fails the checks when ps fails', async () => {
    const processes = new RemoteProcesses(async () => ({ code: 1, signal: null, stdout: '', stderr: 'ps: not found' }));
    await expect(processes.isProcessAlive(1)).rejects.toThrow(/ps failed on the host: ps: not found/);
  });
});
