// The monitor reads a job's stdout and stderr, and nothing else: no other file of the job,
// no file outside the workspace's job directories, whatever the path, the encoding or the
// links on disk. Tested through the HTTP routes (what a browser can send) and JobLogs itself.
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, DirectoryEntry } from '@baton/core';
import { createMonitorApp, type MonitorApp } from '../monitorApp.ts';
import { DONE, createWorkspaceFixture, type WorkspaceFixture } from '../testing/workspaceFixture.ts';
import { JobLogs, LogRefused, completeUtf8Length } from './jobLogs.ts';

const TOKEN = 'logs-test-token';
const SECRET = 'the secret outside the workspace';
const LINKED = 'e5'.repeat(32);

let fixture: WorkspaceFixture;
let monitor: MonitorApp;

beforeAll(async () => {
  fixture = await createWorkspaceFixture();
  const outside = join(fixture.root, 'outside');
  await mkdir(join(outside, LINKED), { recursive: true });
  await writeFile(join(outside, 'secret'), SECRET);
  await writeFile(join(outside, LINKED, 'stdout'), SECRET);
  // A job whose stdout is a link to a file outside it.
  const linkedFile = fixture.jobDirectory('train', LINKED);
  await mkdir(linkedFile, { recursive: true });
  await symlink(join(outside, 'secret'), join(linkedFile, 'stdout'));
  await symlink('/etc/passwd', join(linkedFile, 'stderr'));
  // A job directory that is a link out of the workspace.
  await mkdir(join(fixture.path, 'jobs', 'evaluate'), { recursive: true });
  await symlink(join(outside, LINKED), fixture.jobDirectory('evaluate', LINKED));
  // A task directory that is a link out of the workspace.
  await symlink(outside, join(fixture.path, 'jobs', 'linked'));
  monitor = createMonitorApp({ workspace: fixture.path, token: TOKEN });
});

afterAll(async () => {
  await monitor.close();
  await rm(fixture.root, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; text: string }> {
  const response = await monitor.app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: response.status, text: await response.text() };
}

describe('log routes', () => {
  it.each([
    ['.. as the task', `/api/jobs/../${DONE}/log/stdout`],
    ['an encoded ../../etc as the task', '/api/jobs/..%2F..%2Fetc/passwd/log/stdout'],
    ['an encoded absolute path as the task', '/api/jobs/%2Fetc/passwd/log/stdout'],
    ['.. as the hash', '/api/jobs/train/..%2F..%2F..%2Fsecret/log/stdout'],
    ['a hash that is not hex', '/api/jobs/train/passwd/log/stdout'],
    ['.. as the stream', `/api/jobs/train/${DONE}/log/..%2F..%2F..%2F..%2Fsecret`],
    ['another file of the job', `/api/jobs/train/${DONE}/log/params.json`],
    ['the job marker', `/api/jobs/train/${DONE}/log/done`],
    ['an absolute path as the stream', `/api/jobs/train/${DONE}/log/%2Fetc%2Fpasswd`],
    ['a negative offset', `/api/jobs/train/${DONE}/log/stdout?offset=-5`],
  ])('refuses %s (400)', async (_what, path) => {
    for (const each of [path, path.replace('/log/', '/log/').replace(/(\?|$)/, '/follow$1')]) {
      const { status, text } = await get(each);
      // Unknown shapes of path do not reach a route at all: 404, never the file.
      expect([400, 404]).toContain(status);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('root:');
    }
    expect((await get(path)).status).toBe(path.includes('/../') ? 404 : 400);
  });

  it.each([
    ['a stdout that is a link out of the job', `/api/jobs/train/${LINKED}/log/stdout`],
    ['a stderr that is a link to /etc/passwd', `/api/jobs/train/${LINKED}/log/stderr`],
    ['a job directory that is a link out of the workspace', `/api/jobs/evaluate/${LINKED}/log/stdout`],
    ['a task directory that is a link out of the workspace', `/api/jobs/linked/${LINKED}/log/stdout`],
  ])('refuses %s (403)', async (_what, path) => {
    for (const each of [path, `${path}/follow`]) {
      const { status, text } = await get(each);
      expect(status).toBe(403);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('root:');
    }
  });

  it('refuses a kill of a job named with .. (400)', async () => {
    const response = await monitor.app.request('/api/jobs/..%2F..%2Fetc/passwd/kill', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(400);
  });

  it('answers 404 for a job that is not there, and an empty log for one that has written nothing yet', async () => {
    expect((await get(`/api/jobs/train/${'f6'.repeat(32)}/log/stdout`)).status).toBe(404);
    await mkdir(fixture.jobDirectory('train', 'f7'.repeat(32)), { recursive: true });
    expect(JSON.parse((await get(`/api/jobs/train/${'f7'.repeat(32)}/log/stdout`)).text)).toEqual({ text: '', offset: 0, next: 0, size: 0, finished: false });
  });
});

describe('JobLogs', () => {
  it('cuts a read at the last whole UTF-8 character while the job runs, and gives the rest next time', async () => {
    const hash = 'a9'.repeat(32);
    const directory = fixture.jobDirectory('train', hash);
    await mkdir(directory, { recursive: true });
    // "é" is two bytes: the first read ends between them.
    await writeFile(join(directory, 'stdout'), Buffer.concat([Buffer.from('caf'), Buffer.from('é').subarray(0, 1)]));
    const logs = new JobLogs({ workspacePath: fixture.path, connector: { kind: 'local' } as Connector });
    const first = await logs.read({ taskId: 'train', hash, stream: 'stdout', offset: 0 });
    expect(first).toMatchObject({ text: 'caf', next: 3, size: 4 });
    await writeFile(join(directory, 'stdout'), 'café!');
    const second = await logs.read({ taskId: 'train', hash, stream: 'stdout', offset: first.next });
    expect(second.text).toBe('é!');
  });

  it('knows where UTF-8 characters end', () => {
    const bytes = Buffer.from('aé€😀');
    expect(completeUtf8Length(bytes)).toBe(bytes.length);
    expect(completeUtf8Length(bytes.subarray(0, bytes.length - 1))).toBe(bytes.length - 4);
    expect(completeUtf8Length(bytes.subarray(0, 2))).toBe(1);
  });

  it('through another host\'s connector, refuses links (it cannot resolve them there) and reads plain files', async () => {
    const base = '/remote/ws';
    const listings: Record<string, DirectoryEntry[]> = {
      [`${base}/jobs`]: [
        { name: 'train', kind: 'directory' },
        { name: 'linked', kind: 'symlink' },
      ],
      [`${base}/jobs/train`]: [
        { name: DONE, kind: 'directory' },
        { name: LINKED, kind: 'directory' },
      ],
      [`${base}/jobs/linked`]: [{ name: DONE, kind: 'directory' }],
      [`${base}/jobs/train/${DONE}`]: [{ name: 'stdout', kind: 'file' }],
      [`${base}/jobs/train/${LINKED}`]: [{ name: 'stdout', kind: 'symlink' }],
    };
    const files: Record<string, string> = { [`${base}/jobs/train/${DONE}/stdout`]: 'remote output\n', [`${base}/jobs/train/${LINKED}/stdout`]: SECRET };
    const connector = {
      kind: 'ssh',
      listDirectory: async (path: string) => listings[path] ?? Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })),
      readFileIfExists: async (path: string) => files[path],
      exists: async (path: string) => path in files,
    } as unknown as Connector;
    const logs = new JobLogs({ workspacePath: base, connector });
    expect(await logs.read({ taskId: 'train', hash: DONE, stream: 'stdout' })).toEqual({ text: 'remote output\n', offset: 0, next: 14, size: 14, finished: false });
    await expect(logs.read({ taskId: 'train', hash: LINKED, stream: 'stdout' })).rejects.toMatchObject({ status: 403 });
    await expect(logs.read({ taskId: 'linked', hash: DONE, stream: 'stdout' })).rejects.toMatchObject({ status: 403 });
    await expect(logs.read({ taskId: 'train', hash: 'ab'.repeat(32), stream: 'stdout' })).rejects.toMatchObject({ status: 404 });
    await expect(logs.read({ taskId: '..', hash: DONE, stream: 'stdout' })).rejects.toBeInstanceOf(LogRefused);
  });
});
