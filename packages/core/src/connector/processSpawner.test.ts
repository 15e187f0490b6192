import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessSpawner } from './processSpawner.ts';

let directory: string;
let spawner: ProcessSpawner | undefined;
// The spawner's pipes do not keep the process alive: the tests do.
let keepAlive: NodeJS.Timeout;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'baton-spawner-'));
  keepAlive = setInterval(() => undefined, 1000);
});
afterEach(async () => {
  spawner?.close();
  clearInterval(keepAlive);
  await rm(directory, { recursive: true, force: true });
});

describe.each(['perl', 'sh'] as const)('ProcessSpawner (%s)', (helper) => {
  it('starts a process in its own group and tells when it ended', async () => {
    spawner = new ProcessSpawner({ helper });
    const { pid, exited } = await spawner.spawn({
      argv: ['/bin/sh', '-c', 'echo "$1 from $(pwd)"; echo oops >&2; sleep 0.2', 'sh', `it's "quoted" $HOME`],
      cwd: directory,
      stdoutPath: join(directory, 'out'),
      stderrPath: join(directory, 'err'),
    });
    expect(pid).toBeGreaterThan(1);
    await until(async () => processGroupOf(pid) === pid);
    await exited;
    expect(await readFile(join(directory, 'out'), 'utf8')).toBe(`it's "quoted" $HOME from ${directory}\n`);
    expect(await readFile(join(directory, 'err'), 'utf8')).toBe('oops\n');
  });

  it('runs many at once and reports each end', async () => {
    spawner = new ProcessSpawner({ helper });
    const started = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        spawner!.spawn({ argv: ['/bin/sh', '-c', `: > ${i}.done`], cwd: directory, stdoutPath: '/dev/null', stderrPath: '/dev/null' }),
      ),
    );
    expect(await Promise.all(started.map((process) => process.exited))).toEqual(Array(20).fill(true));
    for (let i = 0; i < 20; i++) expect(existsSync(join(directory, `${i}.done`))).toBe(true);
  });

  it('says it lost track of its processes when the helper dies, and they run on', async () => {
    spawner = new ProcessSpawner({ helper });
    const { pid, exited } = await spawner.spawn({ argv: ['sleep', '2'], cwd: directory, stdoutPath: '/dev/null', stderrPath: '/dev/null' });
    process.kill(spawner.pid!, 'SIGKILL');
    expect(await exited).toBe(false);
    expect(() => process.kill(pid, 0)).not.toThrow();
    process.kill(pid, 'SIGKILL');
  });

  it('refuses a working directory that does not exist', async () => {
    spawner = new ProcessSpawner({ helper });
    await expect(
      spawner.spawn({ argv: ['/bin/true'], cwd: join(directory, 'missing'), stdoutPath: '/dev/null', stderrPath: '/dev/null' }),
    ).rejects.toThrow(/working directory/);
  });
});

function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
