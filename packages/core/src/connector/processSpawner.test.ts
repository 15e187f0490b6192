import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessSpawner, type SpawnerHelper } from './processSpawner.ts';

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

const hasPython = process.platform === 'linux' && ['/usr/bin/python3', '/usr/local/bin/python3'].some((path) => existsSync(path));
const helpers: SpawnerHelper[] = [...(hasPython ? (['python'] as const) : []), 'perl', 'sh'];

describe.each(helpers)('ProcessSpawner (%s)', (helper) => {
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

  it('carries a request larger than a pipe holds at once, and the one after it', async () => {
    spawner = new ProcessSpawner({ helper });
    // ~82 KB, above a pipe's 64 KB. Long words rather than many short ones: the sh helper
    // builds the argv one `set --` at a time (quadratic: 20,000 words took it 14 s, and over
    // 30 s on a loaded machine), which a real launch (`/bin/sh job.sh`) never asks of it.
    const words = Array.from({ length: 2_000 }, (_, i) => `w${i}`.padEnd(40, '-'));
    const first = await spawner.spawn({ argv: ['/bin/sh', '-c', 'echo "$#" > count', 'sh', ...words], cwd: directory, stdoutPath: '/dev/null', stderrPath: '/dev/null' });
    const second = await spawner.spawn({ argv: ['/bin/sh', '-c', ': > second'], cwd: directory, stdoutPath: '/dev/null', stderrPath: '/dev/null' });
    await Promise.all([first.exited, second.exited]);
    expect(await readFile(join(directory, 'count'), 'utf8')).toBe('2000\n');
    expect(existsSync(join(directory, 'second'))).toBe(true);
  });

  it('says it lost track of its processes when the helper dies, and they run on', async () => {
    spawner = new ProcessSpawner({ helper });
    const { pid, exited } = await spawner.spawn({ argv: ['sleep', '2'], cwd: directory, stdoutPath: '/dev/null', stderrPath: '/dev/null' });
    process.kill(spawner.pid!, 'SIGKILL');
    expect(await exited).toBe(false);
    expect(() => process.kill(pid, 0)).not.toThrow();
    process.kill(pid, 'SIGKILL');
  });

  it.runIf(process.platform === 'linux')('leaves SIGPIPE to its default in the process it starts (a job killed by SIGPIPE must be)', async () => {
    spawner = new ProcessSpawner({ helper });
    const { exited } = await spawner.spawn({
      argv: ['/bin/sh', '-c', 'grep -E "^Sig(Ign|Blk):" /proc/self/status'],
      cwd: directory,
      stdoutPath: join(directory, 'out'),
      stderrPath: join(directory, 'err'),
    });
    await exited;
    const status = await readFile(join(directory, 'out'), 'utf8');
    const mask = (name: string) => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status)![1]}`);
    // The standard signals (1-31; glibc keeps 32 and 33 for itself). A POSIX shell starts
    // a background command with SIGINT and SIGQUIT ignored, and nothing can undo that.
    const ignored = Array.from({ length: 31 }, (_, index) => index + 1).filter((signal) => (mask('SigIgn') >> BigInt(signal - 1)) & 1n);
    expect(ignored).toEqual(helper === 'sh' ? [2, 3] : []);
    expect(mask('SigBlk')).toBe(0n);
  });

  it('refuses a working directory that does not exist', async () => {
    spawner = new ProcessSpawner({ helper });
    await expect(
      spawner.spawn({ argv: ['/bin/true'], cwd: join(directory, 'missing'), stdoutPath: '/dev/null', stderrPath: '/dev/null' }),
    ).rejects.toThrow(/working directory/);
  });
});

describe('ProcessSpawner, choosing its helper', () => {
  it.runIf(hasPython)('uses python3 on Linux by default', async () => {
    spawner = new ProcessSpawner();
    await (await spawner.spawn({ argv: ['/bin/true'], cwd: directory, stdoutPath: '/dev/null', stderrPath: '/dev/null' })).exited;
    expect(spawner.helper).toBe('python');
  });

  it.runIf(hasPython)('holds no job\'s directory once it started the job (python enters it to start it)', async () => {
    spawner = new ProcessSpawner({ helper: 'python' });
    const { exited } = await spawner.spawn({ argv: ['sleep', '0.3'], cwd: directory, stdoutPath: '/dev/null', stderrPath: '/dev/null' });
    expect(await readlink(`/proc/${spawner.pid}/cwd`)).toBe('/');
    await exited;
  });

  it.runIf(hasPython)('says why python could not start a command, with its errno code', async () => {
    spawner = new ProcessSpawner({ helper: 'python' });
    await expect(
      spawner.spawn({ argv: ['no-such-command-baton'], cwd: directory, stdoutPath: '/dev/null', stderrPath: '/dev/null' }),
    ).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/No such file/) });
  });

  const refusingPythons = {
    // As one older than 3.8 does, before reading any request.
    'exits 3 at once': (calls: string) => `#!/bin/sh\necho refused >> ${calls}\nexit 3\n`,
    // As on a C library without POSIX_SPAWN_SETSID: the real helper, whose posix_spawnp refuses setsid.
    'cannot start in a session of its own': (calls: string) =>
      `#!/bin/sh\necho refused >> ${calls}\nexec /usr/bin/python3 -I -S -c 'import os, sys\ndef refuse(*args, **options): raise NotImplementedError("setsid is not supported")\nos.posix_spawnp = refuse\nexec(sys.argv[1])' "$4"\n`,
  };

  it.runIf(hasPython).each(Object.keys(refusingPythons))('falls back to the next helper when python3 cannot run here (%s), and starts every request once', async (how) => {
    const python = join(directory, 'python3');
    await writeFile(python, refusingPythons[how as keyof typeof refusingPythons](join(directory, 'python-calls')));
    await chmod(python, 0o755);
    spawner = new ProcessSpawner({ python });
    const started = await Promise.all(
      [1, 2, 3].map((i) => spawner!.spawn({ argv: ['/bin/sh', '-c', `echo run >> ${i}.runs`], cwd: directory, stdoutPath: '/dev/null', stderrPath: '/dev/null' })),
    );
    expect(spawner.helper).toBe('perl');
    await Promise.all(started.map((process) => process.exited));
    // Later requests go to perl at once: python3 is not asked again.
    await (await spawner.spawn({ argv: ['/bin/sh', '-c', 'echo run >> 4.runs'], cwd: directory, stdoutPath: '/dev/null', stderrPath: '/dev/null' })).exited;
    expect(await readFile(join(directory, 'python-calls'), 'utf8')).toBe('refused\n');
    for (const i of [1, 2, 3, 4]) expect(await readFile(join(directory, `${i}.runs`), 'utf8')).toBe('run\n');
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
