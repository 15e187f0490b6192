// Fresh claims: a job never launched is claimed by making its directory. Another
// process honours the claim while its holder lives (even past the stale time, the
// holder refreshing it), takes the job over once the holder died before recording
// a launch, and never waits for a directory let go without a launch.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSourceProcess } from '../__fixtures__/sourceProcess.ts';
import { LocalConnector } from '../connector/localConnector.ts';
import { experiment } from '../experiment/experiment.ts';
import { claimed } from './__fixtures__/claimTask.ts';
import { InProcessLauncher, workspaceWith } from './__fixtures__/inProcessLauncher.ts';
import { MemoryConnector } from './__fixtures__/memoryConnector.ts';
import { CLAIM_STALE_MS, FreshClaims } from './freshClaims.ts';

const driver = fileURLToPath(new URL('./__fixtures__/claimDriver.ts', import.meta.url));

let root: string;
const children: ChildProcess[] = [];
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-fresh-'));
});
afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.length = 0;
  await rm(root, { recursive: true, force: true });
});

/** Starts the claim driver: it claims job `claimed {i: 1}` and stops in submit until `gate` exists. */
function startClaimer(gate: string) {
  const claimer = startSourceProcess(driver, [JSON.stringify({ workspace: join(root, 'ws'), gate })]);
  children.push(claimer.child);
  return claimer;
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('fresh claims across processes', () => {
  it('a process killed between claiming a fresh job and writing its process.json: the next run runs the job once', async () => {
    const claimer = startClaimer(join(root, 'never'));
    await until(() => claimer.output().includes('submitting'));
    claimer.child.kill('SIGKILL');
    await claimer.exited;

    const launcher = new InProcessLauncher();
    await using xp = await experiment({ name: 'claim', openedWorkspace: workspaceWith(join(root, 'ws'), [launcher], new LocalConnector()) });
    const job = xp.submit(claimed, { i: 1 });
    // The dead process left the directory, its files and no process.json.
    expect(existsSync(join(job.directory, 'job.sh'))).toBe(true);
    expect(existsSync(join(job.directory, 'process.json'))).toBe(false);
    await xp.wait();
    expect(job.state).toBe('done');
    expect(launcher.submitted.map((request) => request.directory)).toEqual([job.directory]);
  });

  it('a live process holding a fresh claim past the stale time keeps it: the other process launches nothing and follows the job', async () => {
    const gate = join(root, 'go');
    const claimer = startClaimer(gate);
    await until(() => claimer.output().includes('submitting'));

    const launcher = new InProcessLauncher();
    await using xp = await experiment({ name: 'claim', openedWorkspace: workspaceWith(join(root, 'ws'), [launcher], new LocalConnector()) });
    const job = xp.submit(claimed, { i: 1 });
    // Past the stale time: the holder's refreshes keep its claim alive.
    await new Promise((resolve) => setTimeout(resolve, CLAIM_STALE_MS + 2000));
    expect(launcher.submitted).toEqual([]);
    await writeFile(gate, '');
    await xp.wait();
    expect(await claimer.exited, claimer.output()).toBe(0);
    expect(claimer.output()).toContain('done 1');
    expect(job.state).toBe('done');
    expect(launcher.submitted).toEqual([]);
  });
});

describe('FreshClaims', () => {
  it('a directory made by another process, never launched and its params.json just written, is held; launched, marked, old or let go, it is not', async () => {
    const connector = new LocalConnector();
    const maker = new FreshClaims(connector);
    const other = new FreshClaims(connector);
    const directory = join(root, 'jobs', 'task', 'hash');
    expect(await maker.make(directory)).toBe(true);
    expect(await other.make(directory)).toBe(false);
    // No params.json yet: held while this process has seen it for less than the stale time.
    expect(await other.heldElsewhere(directory, Date.now())).toBe(true);
    expect(await other.heldElsewhere(directory, Date.now() - CLAIM_STALE_MS - 1000)).toBe(false);
    const params = join(directory, 'params.json');
    await writeFile(params, '{}');
    maker.hold(directory);
    expect(await other.heldElsewhere(directory, 0)).toBe(true);

    // The maker's launch record, created in one go without a lock: while it is
    // still empty (or half-written), the claim holds; once it parses, it does not.
    await writeFile(join(directory, 'process.json'), '');
    expect(await other.heldElsewhere(directory, 0)).toBe(true);
    await writeFile(join(directory, 'process.json'), '{"launcher":"lo');
    expect(await other.heldElsewhere(directory, 0)).toBe(true);
    await writeFile(join(directory, 'process.json'), '{}');
    expect(await other.heldElsewhere(directory, 0)).toBe(false);
    await rm(join(directory, 'process.json'));
    await writeFile(join(directory, 'failed'), '{}');
    expect(await other.heldElsewhere(directory, 0)).toBe(false);
    await rm(join(directory, 'failed'));

    const old = new Date(Date.now() - CLAIM_STALE_MS - 1000);
    await utimes(params, old, old);
    expect(await other.heldElsewhere(directory, 0)).toBe(false);

    await writeFile(params, '{}');
    expect(await other.heldElsewhere(directory, 0)).toBe(true);
    await maker.release(directory, false);
    expect(await other.heldElsewhere(directory, 0)).toBe(false);
  });

  it('a job prepared without a launch (generate) is no claim: the next run takes it at once', async () => {
    const workspace = join(root, 'ws');
    const launcher = new InProcessLauncher();
    const first = await experiment({ name: 'claim', openedWorkspace: workspaceWith(workspace, [launcher], new LocalConnector()), runMode: 'generate' });
    const job = first.submit(claimed, { i: 2 });
    await first.wait();
    await first.close();
    expect(existsSync(join(job.directory, 'job.sh'))).toBe(true);
    expect(await new FreshClaims(new LocalConnector()).heldElsewhere(job.directory, 0)).toBe(false);
  });

  it('is not used with a connector that cannot read and set a modification time: every job is claimed with its lock', async () => {
    const claims = new FreshClaims(new MemoryConnector());
    expect(claims.supported).toBe(false);
    await mkdir(join(root, 'x'));
    expect(await claims.heldElsewhere(join(root, 'x'), Date.now())).toBe(false);
  });
});
