import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobDirectory, jobFile } from './jobFiles.ts';

describe('job files', () => {
  it('puts a job directory where join() does, whatever the workspace path, alternating workspaces', () => {
    const workspaces = ['/data/ws', '/data/ws/', '/data/x/../ws', 'relative/ws', './ws', '/', '/data//ws'];
    const names: [string, string][] = [
      ['train', 'a'.repeat(64)],
      ['train.v2', '0123abcd'],
      ['a..b', 'f'],
      // Not plain names (never a task id or a hash from Baton): join() normalizes them as before.
      ['../escape', 'h'],
      ['t', 'x/../y'],
      ['t', ''],
      ['.', 'h'],
    ];
    for (let round = 0; round < 2; round++) {
      for (const workspace of workspaces) {
        for (const [taskId, hash] of names) expect(jobDirectory(workspace, taskId, hash)).toBe(join(workspace, 'jobs', taskId, hash));
      }
    }
  });

  it('names a file of a job directory with or without a trailing slash', () => {
    expect(jobFile('/ws/jobs/t/h', 'done')).toBe('/ws/jobs/t/h/done');
    expect(jobFile('/ws/jobs/t/h/', 'params')).toBe('/ws/jobs/t/h/params.json');
  });
});
