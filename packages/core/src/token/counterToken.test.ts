import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalConnector } from '../connector/localConnector.ts';
import { BatonError, UserInputError } from '../errors.ts';
import { jobScript } from '../job/jobScript.ts';
import { MemoryConnector } from '../scheduler/__fixtures__/memoryConnector.ts';
import type { TokenHolder } from '../types.ts';
import { CounterToken } from './counterToken.ts';

const coreDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const contenderScript = join(coreDirectory, 'src/token/__fixtures__/tokenContender.ts');

let workspacePath: string;

beforeEach(async () => {
  workspacePath = await mkdtemp(join(tmpdir(), 'baton-token-'));
});

afterEach(async () => {
  await rm(workspacePath, { recursive: true, force: true });
});

function holder(hash: string, overrides: Partial<TokenHolder> = {}): TokenHolder {
  return { hash, directory: join(workspacePath, 'jobs', 'task', hash), pid: process.pid, host: hostname(), ...overrides };
}

describe('CounterToken', () => {
  it('hands out units up to its total, then refuses', async () => {
    const token = new CounterToken({ name: 'gpu', total: 3, workspacePath });
    expect(await token.tryAcquire(holder('a'), 2)).toBe(true);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(true);
    expect(await token.tryAcquire(holder('c'), 1)).toBe(false);
    expect(await token.available()).toBe(0);

    const record = JSON.parse(await readFile(join(workspacePath, 'tokens/gpu/holders/a.json'), 'utf8'));
    expect(record).toMatchObject({ count: 2, pid: process.pid, host: hostname(), directory: holder('a').directory });
    expect(typeof record.acquiredAt).toBe('string');
  });

  it('frees the units of a released holder', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    expect(await token.tryAcquire(holder('a'), 2)).toBe(true);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(false);
    await token.release(holder('a'));
    expect(await token.available()).toBe(2);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(true);
    expect(await token.available()).toBe(1);
  });

  it('shares its state with every token object on the same workspace', async () => {
    const first = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const second = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    expect(await first.tryAcquire(holder('a'), 2)).toBe(true);
    expect(await second.tryAcquire(holder('b'), 1)).toBe(false);
    expect(await second.available()).toBe(0);
  });

  it('lets a holder acquire again (re-attach, new pid) without counting its own share against it', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    expect(await token.tryAcquire(holder('a'), 2)).toBe(true);
    expect(await token.tryAcquire(holder('a', { pid: process.ppid }), 2)).toBe(true);
    const record = JSON.parse(await readFile(join(workspacePath, 'tokens/gpu/holders/a.json'), 'utf8'));
    expect(record.pid).toBe(process.ppid);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(false);
  });

  it('counts a holder whose process died on this host as free', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const pid = await deadPid();
    expect(await token.tryAcquire(holder('dead', { pid }), 2)).toBe(true);
    expect(await token.available()).toBe(2);
    expect(await token.tryAcquire(holder('b'), 2)).toBe(true);
    // The dead holder's file is cleaned up under the lock.
    expect(await readdir(join(workspacePath, 'tokens/gpu/holders'))).toEqual(['b.json']);
  });

  it('cannot judge a pid on another host, so keeps counting that holder', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const pid = await deadPid();
    expect(await token.tryAcquire(holder('remote', { pid, host: `not-${hostname()}` }), 2)).toBe(true);
    expect(await token.available()).toBe(0);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(false);
  });

  it.each(['done', 'failed'])('counts a holder whose job wrote a `%s` marker as free', async (marker) => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const finished = holder('finished', { host: `not-${hostname()}` });
    expect(await token.tryAcquire(finished, 2)).toBe(true);
    expect(await token.tryAcquire(holder('b'), 1)).toBe(false);
    await mkdir(finished.directory, { recursive: true });
    await writeFile(join(finished.directory, marker), '');
    expect(await token.available()).toBe(2);
    expect(await token.tryAcquire(holder('b'), 2)).toBe(true);
  });

  it('rejects a request that could never be satisfied', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const attempt = token.tryAcquire(holder('a'), 3);
    await expect(attempt).rejects.toBeInstanceOf(UserInputError);
    await expect(token.tryAcquire(holder('a'), 3)).rejects.toMatchObject({
      where: 'token "gpu"',
      hint: expect.stringContaining('at most 2'),
    });
    await expect(token.tryAcquire(holder('a'), 0)).rejects.toBeInstanceOf(UserInputError);
  });

  it('rejects a total or a name it cannot use', () => {
    expect(() => new CounterToken({ name: 'gpu', total: -1, workspacePath })).toThrow(UserInputError);
    expect(() => new CounterToken({ name: '../gpu', total: 1, workspacePath })).toThrow(UserInputError);
  });

  it('takes over a lock left behind by a crashed process', async () => {
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath });
    const lockPath = join(workspacePath, 'tokens/gpu/holders.lock');
    await mkdir(lockPath, { recursive: true });
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lockPath, longAgo, longAgo);
    expect(await token.tryAcquire(holder('a'), 1)).toBe(true);
  });

  it('never lets more processes hold it than its total', async () => {
    const logPath = join(workspacePath, 'log');
    const processes = 4;
    const iterations = 6;
    await Promise.all(
      Array.from({ length: processes }, (_, index) =>
        run(process.execPath, ['--import', 'tsx', '--conditions=@baton/source', contenderScript, workspacePath, 'gpu', '2', logPath, `p${index}`, String(iterations)]),
      ),
    );

    const lines = (await readFile(logPath, 'utf8')).trim().split('\n');
    let holding = 0;
    let most = 0;
    for (const line of lines) {
      holding += line.startsWith('enter ') ? 1 : -1;
      most = Math.max(most, holding);
    }
    expect(most).toBeLessThanOrEqual(2);
    // With four processes contending, both units were in use at some point.
    expect(most).toBe(2);
    expect(lines.filter((line) => line.startsWith('enter '))).toHaveLength(processes * iterations);
    expect(lines.filter((line) => line.startsWith('exit '))).toHaveLength(processes * iterations);
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    expect(await token.available()).toBe(2);
  });
});

describe('CounterToken, through its connector', () => {
  // The workspace lives where the connector reaches (another host); nothing touches this disk.
  const remote = '/remote/ws';
  const remoteHolder = (hash: string, overrides: Partial<TokenHolder> = {}): TokenHolder => ({
    hash,
    directory: `${remote}/jobs/task/${hash}`,
    pid: process.pid,
    host: 'memory',
    ...overrides,
  });

  it('keeps its holders in the connector\'s files and takes the connector\'s lock', async () => {
    const connector = new MemoryConnector();
    const lock = vi.spyOn(connector, 'lock');
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath: remote, connector });
    expect(await token.tryAcquire(remoteHolder('a', { host: 'elsewhere' }), 1)).toBe(true);
    expect(JSON.parse(connector.files.get(`${remote}/tokens/gpu/holders/a.json`)!)).toMatchObject({ count: 1, host: 'elsewhere' });
    expect(await token.available()).toBe(1);
    await token.release(remoteHolder('a'));
    expect([...connector.files.keys()]).toEqual([]);
    expect(await token.available()).toBe(2);
    expect(lock.mock.calls.map(([path]) => path)).toEqual([`${remote}/tokens/gpu/holders`, `${remote}/tokens/gpu/holders`]);
  });

  it('asks the connector about a holder on its host, and keeps a holder on any other host until its marker', async () => {
    const connector = new MemoryConnector();
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath: remote, connector });
    // The memory connector's host runs no process: a holder there is dead.
    expect(await token.tryAcquire(remoteHolder('there', { processGroup: 1234 }), 2)).toBe(true);
    expect(await token.available()).toBe(2);
    // A pid on a third host means nothing here: only its marker frees the share.
    const elsewhere = remoteHolder('elsewhere', { host: 'elsewhere', pid: 999_999 });
    expect(await token.tryAcquire(elsewhere, 2)).toBe(true);
    expect(await token.tryAcquire(remoteHolder('second', { host: 'elsewhere' }), 1)).toBe(false);
    await connector.mkdir(elsewhere.directory);
    await connector.writeFile(`${elsewhere.directory}/done`, '{}');
    expect(await token.tryAcquire(remoteHolder('second', { host: 'elsewhere' }), 1)).toBe(true);
    expect([...connector.files.keys()].filter((path) => path.includes('/holders/'))).toEqual([`${remote}/tokens/gpu/holders/second.json`]);
  });

  it('looks at this machine\'s processes for a holder on this machine, whatever the connector', async () => {
    const connector = new MemoryConnector();
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath: remote, connector });
    expect(await token.tryAcquire(remoteHolder('dead', { host: hostname(), pid: await deadPid() }), 1)).toBe(true);
    expect(await token.tryAcquire(remoteHolder('here', { host: hostname() }), 1)).toBe(true);
    expect(await token.tryAcquire(remoteHolder('second', { host: hostname() }), 1)).toBe(false);
  });
});

describe('CounterToken, a holder that follows its job\'s process group', () => {
  /** Process groups the tests started, killed whole afterwards. */
  const groups: number[] = [];
  const connector = new LocalConnector();

  afterEach(async () => {
    for (const pgid of groups.splice(0)) killGroup(pgid);
    await connector.close();
  });

  it('keeps the share while the command runs after its shell was killed, frees it once the group is gone', async () => {
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath });
    const job = await startGroup();
    groups.push(job.leader);
    const jobHolder = holder('job', { pid: job.leader, processGroup: job.leader });
    expect(await token.tryAcquire(jobHolder, 1)).toBe(true);

    // Only the shell: its child, the command, runs on in the same group.
    process.kill(job.leader, 'SIGKILL');
    await job.leaderExited;
    expect(isAlive(job.command)).toBe(true);
    expect(await token.available()).toBe(0);
    expect(await token.tryAcquire(holder('second'), 1)).toBe(false);

    // The last process of the group ends (where nothing reaps it, it stays a zombie: gone all the same).
    process.kill(job.command, 'SIGKILL');
    await until(async () => (await token.available()) === 1);
    expect(await token.tryAcquire(holder('second'), 1)).toBe(true);
  });

  it('keeps the share of a job started the way the local launcher starts it when only its job.sh is killed', async () => {
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath });
    const directory = join(workspacePath, 'jobs', 'task', 'job');
    await mkdir(directory, { recursive: true });
    const scriptPath = join(directory, 'job.sh');
    const argv = ['/bin/sh', '-c', 'echo $$ > command.pid; exec sleep 30'];
    await writeFile(scriptPath, jobScript({ taskId: 'task', hash: 'job', directory, argv, env: {} }));
    const { pid, exited } = await connector.spawnDetached(['/bin/sh', scriptPath], {
      cwd: directory,
      stdoutPath: join(directory, 'stdout'),
      stderrPath: join(directory, 'stderr'),
    });
    groups.push(pid);
    // As the scheduler holds a share once the job is launched: the launch handle's pid leads the job's group.
    const jobHolder = holder('job', { directory, pid, processGroup: pid });
    expect(await token.tryAcquire(jobHolder, 1)).toBe(true);
    const command = Number(await until(() => readFile(join(directory, 'command.pid'), 'utf8').catch(() => undefined)));

    process.kill(pid, 'SIGKILL');
    await exited;
    expect(isAlive(command)).toBe(true);
    expect(await token.tryAcquire(holder('second'), 1)).toBe(false);
    // job.sh died before it could write a marker: nothing else has freed the share.
    expect(await readdir(directory)).not.toContain('failed');

    process.kill(command, 'SIGKILL');
    await until(async () => (await token.available()) === 1);
    expect(await token.tryAcquire(holder('second'), 1)).toBe(true);
  });

  it.each(['done', 'failed'])('frees the share of a job that wrote a `%s` marker, even while its group runs', async (marker) => {
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath });
    const job = await startGroup();
    groups.push(job.leader);
    const jobHolder = holder('job', { pid: job.leader, processGroup: job.leader });
    expect(await token.tryAcquire(jobHolder, 1)).toBe(true);
    expect(await token.tryAcquire(holder('second'), 1)).toBe(false);
    // E.g. a daemon the job left behind in its group after job.sh wrote its marker.
    await mkdir(jobHolder.directory, { recursive: true });
    await writeFile(join(jobHolder.directory, marker), '');
    expect(isAlive(job.command)).toBe(true);
    expect(await token.tryAcquire(holder('second'), 1)).toBe(true);
  });

  // Where PID 1 does not reap orphans (containers), a killed job's command ends as a zombie nobody collects.
  it.skipIf(process.platform !== 'linux')('frees the share of a job whose processes all exited, even if nothing reaped them', async () => {
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath });
    // A parent outside the job's group that never reaps: the job's only process stays a zombie.
    const parent = spawn('perl', ['-MPOSIX=setsid', '-e', '$| = 1; my $pid = fork(); if ($pid == 0) { setsid(); exec "true" } print "$pid\\n"; sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
      await until(async () => (await readFile(`/proc/${zombie}/stat`, 'utf8')).slice(-200).includes(') Z '));
      expect(isAlive(zombie)).toBe(true);
      expect(await token.tryAcquire(holder('job', { pid: zombie, processGroup: zombie }), 1)).toBe(true);
      expect(await token.tryAcquire(holder('second'), 1)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('keeps the share while the pid runs, before it leads its group', async () => {
    // Right after a launch the job may not have called setsid yet: its group does not exist.
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath });
    const notAGroup = await deadPid();
    expect(await token.tryAcquire(holder('job', { pid: process.pid, processGroup: notAGroup }), 1)).toBe(true);
    expect(await token.tryAcquire(holder('second'), 1)).toBe(false);
  });

  it('frees the share once neither the pid nor any process of its group runs', async () => {
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath });
    const gone = await deadPid();
    expect(await token.tryAcquire(holder('job', { pid: gone, processGroup: gone }), 1)).toBe(true);
    expect(await token.tryAcquire(holder('second'), 1)).toBe(true);
  });

  it('cannot judge a process group on another host, so keeps counting that holder until its marker', async () => {
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath });
    const gone = await deadPid();
    const remote = holder('remote', { pid: gone, processGroup: gone, host: `not-${hostname()}` });
    expect(await token.tryAcquire(remote, 1)).toBe(true);
    expect(await token.tryAcquire(holder('second'), 1)).toBe(false);
    await mkdir(remote.directory, { recursive: true });
    await writeFile(join(remote.directory, 'done'), '');
    expect(await token.tryAcquire(holder('second'), 1)).toBe(true);
  });

  it('records the process group beside the pid, and reads holder files written without one', async () => {
    const token = new CounterToken({ name: 'gpu', total: 2, workspacePath });
    const job = await startGroup();
    groups.push(job.leader);
    expect(await token.tryAcquire(holder('job', { pid: job.leader, processGroup: job.leader }), 1)).toBe(true);
    const record = JSON.parse(await readFile(join(workspacePath, 'tokens/gpu/holders/job.json'), 'utf8'));
    expect(record).toMatchObject({ pid: job.leader, processGroup: job.leader });

    // Written by an earlier version: judged by its pid alone, as then.
    const holders = join(workspacePath, 'tokens/gpu/holders');
    const old = (hash: string, pid: number) =>
      writeFile(
        join(holders, `${hash}.json`),
        JSON.stringify({ count: 1, directory: holder(hash).directory, pid, host: hostname(), acquiredAt: new Date().toISOString() }),
      );
    await old('old-live', process.pid);
    await old('old-dead', await deadPid());
    expect((await token.holders()).map((entry) => entry.hash).sort()).toEqual(['job', 'old-live']);
  });

  it('refuses a process group that cannot be a job\'s', async () => {
    const token = new CounterToken({ name: 'gpu', total: 1, workspacePath });
    await expect(token.tryAcquire(holder('job', { processGroup: 1 }), 1)).rejects.toBeInstanceOf(BatonError);
    await expect(token.tryAcquire(holder('job', { processGroup: -5 }), 1)).rejects.toBeInstanceOf(BatonError);
  });
});

/** A shell leading its own process group, and the command it runs in the background as its child. */
async function startGroup(): Promise<{ leader: number; command: number; leaderExited: Promise<unknown> }> {
  const shell = spawn('/bin/sh', ['-c', 'sleep 30 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const leaderExited = new Promise((resolve) => shell.once('exit', resolve));
  const firstLine = await new Promise<string>((resolve, reject) => {
    let output = '';
    shell.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) resolve(output.split('\n')[0] ?? '');
    });
    shell.once('exit', () => reject(new Error('the shell exited before starting its command')));
  });
  shell.unref();
  if (shell.pid === undefined) throw new Error('could not start /bin/sh');
  return { leader: shell.pid, command: Number(firstLine), leaderExited };
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until `probe` gives something truthy, for at most 10 s. */
async function until<T>(probe: () => Promise<T>): Promise<NonNullable<T>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('could not start node');
  return child.pid;
}

async function run(command: string, args: string[]): Promise<void> {
  await promisify(execFile)(command, args, { cwd: coreDirectory });
}
