import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalConnector } from './localConnector.ts';
import { isOnLocalDisk } from './localDisk.ts';

const connector = new LocalConnector();
const coreDirectory = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let directory: string;
const spawnedGroups: number[] = [];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'baton-local-connector-'));
});

afterEach(async () => {
  for (const pgid of spawnedGroups.splice(0)) await connector.killProcessGroup(pgid, 'SIGKILL');
  await rm(directory, { recursive: true, force: true });
});

describe('run', () => {
  it('captures stdout, stderr and the exit code', async () => {
    const result = await connector.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toEqual({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n' });
  });

  it('passes each argument verbatim, never through a shell', async () => {
    const marker = join(tmpdir(), `pwned-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const hostile = `'; rm -rf ~; $(touch ${marker}) \`touch ${marker}\` && touch ${marker}`;
    const result = await connector.run(['printf', '%s', hostile]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(hostile);
    expect(existsSync(marker)).toBe(false);
  });

  it('kills a command that outlives its timeout', async () => {
    const started = Date.now();
    const result = await connector.run(['sleep', '30'], { timeoutMs: 200 });
    expect(result.code).toBeNull();
    expect(result.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports a timed-out command it cannot kill (a setuid command such as oarsub) as timed out, not as one that could not start', async () => {
    // The kill of a command that became another user fails with EPERM, as ChildProcess reports it.
    const kill = vi.spyOn(ChildProcess.prototype, 'kill').mockImplementationOnce(function (this: ChildProcess) {
      this.emit('error', Object.assign(new Error('kill EPERM'), { code: 'EPERM', errno: -1, syscall: 'kill' }));
      return false;
    });
    try {
      const started = Date.now();
      const result = await connector.run(['sleep', '2'], { timeoutMs: 200 });
      expect(result.code).toBeNull();
      expect(result.stderr).toContain('could not kill it: kill EPERM');
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      kill.mockRestore();
    }
  });

  it('feeds input, adds environment variables and runs in cwd', async () => {
    const result = await connector.run(['sh', '-c', 'cat; printf " $BATON_TEST_VAR "; pwd'], {
      input: 'from stdin',
      env: { BATON_TEST_VAR: 'overlay' },
      cwd: directory,
    });
    expect(result.stdout).toBe(`from stdin overlay ${directory}\n`);
  });

  it('rejects with a fix when the program does not exist', async () => {
    await expect(connector.run(['baton-no-such-program'])).rejects.toThrow(/Could not start "baton-no-such-program"/);
  });
});

describe('spawnDetached', () => {
  it('starts a process in its own group whose output is appended to files', async () => {
    const stdoutPath = join(directory, 'stdout');
    const stderrPath = join(directory, 'stderr');
    await writeFile(stdoutPath, 'earlier attempt\n');
    const { pid, exited } = await connector.spawnDetached(['sh', '-c', 'echo out; echo err >&2; sleep 0.3'], {
      cwd: directory,
      stdoutPath,
      stderrPath,
    });
    spawnedGroups.push(pid);
    // setsid runs a moment after the pid is known.
    await until(async () => processGroupOf(await readFile(`/proc/${pid}/stat`, 'utf8')) === pid);
    expect(await connector.isProcessAlive(pid)).toBe(true);
    await exited;
    expect(await connector.isProcessAlive(pid)).toBe(false);
    expect(await readFile(stdoutPath, 'utf8')).toBe('earlier attempt\nout\n');
    expect(await readFile(stderrPath, 'utf8')).toBe('err\n');
  });

  it('keeps running after the process that started it exits', async () => {
    // A separate node process spawns the job and exits at once; the job must live on.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@baton/source', '-e', spawnerScript(join(directory, 'out'))],
      { cwd: coreDirectory, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    const pid = Number(output.trim());
    spawnedGroups.push(pid);
    expect(await connector.isProcessAlive(pid, 'sleep')).toBe(true);
    await connector.killProcessGroup(pid, 'SIGKILL');
    await waitFor(async () => !(await connector.isProcessAlive(pid)));
  });

  it('rejects when the working directory does not exist', async () => {
    await expect(
      connector.spawnDetached(['sh', '-c', 'true'], {
        cwd: join(directory, 'missing'),
        stdoutPath: join(directory, 'stdout'),
        stderrPath: join(directory, 'stderr'),
      }),
    ).rejects.toThrow(/Could not start "sh"/);
  });
});

describe('processes', () => {
  it('killProcessGroup stops the leader and its children', async () => {
    const { pid, exited } = await connector.spawnDetached(['sh', '-c', 'sleep 100 & sleep 100 & wait'], {
      cwd: directory,
      stdoutPath: join(directory, 'stdout'),
      stderrPath: join(directory, 'stderr'),
    });
    spawnedGroups.push(pid);
    await waitFor(async () => (await groupMembers(pid)).length === 3);
    const members = await groupMembers(pid);
    await connector.killProcessGroup(pid);
    await exited;
    await waitFor(async () => (await groupMembers(pid)).length === 0);
    for (const member of members) expect(await connector.isProcessAlive(member)).toBe(false);
    // A group that is already gone is not an error.
    await expect(connector.killProcessGroup(pid)).resolves.toBeUndefined();
  });

  it('refuses to signal our own group or every process', async () => {
    await expect(connector.killProcessGroup(0)).rejects.toThrow(/Refusing/);
    await expect(connector.killProcessGroup(1)).rejects.toThrow(/Refusing/);
  });

  it('isProcessAlive checks the command line against pid reuse', async () => {
    const { pid } = await connector.spawnDetached(['sleep', '30'], {
      cwd: directory,
      stdoutPath: join(directory, 'stdout'),
      stderrPath: join(directory, 'stderr'),
    });
    spawnedGroups.push(pid);
    // The pid exists when spawnDetached resolves; the exec into `sleep` follows at once.
    await until(() => connector.isProcessAlive(pid, 'sleep'));
    expect(await connector.isProcessAlive(pid, '30')).toBe(true);
    expect(await connector.isProcessAlive(pid, '/some/other/job')).toBe(false);
    expect(await connector.isProcessAlive(0)).toBe(false);
    expect(await connector.isProcessAlive(-1)).toBe(false);
  });

  it('counts a zombie as dead', async () => {
    // The shell execs sleep 0 in a child it never waits for while it sleeps itself: a zombie.
    const { pid } = await connector.spawnDetached(['sh', '-c', 'sleep 0 & exec sleep 30'], {
      cwd: directory,
      stdoutPath: join(directory, 'stdout'),
      stderrPath: join(directory, 'stderr'),
    });
    spawnedGroups.push(pid);
    await waitFor(async () => (await groupMembers(pid, { zombies: true })).length === 2);
    const zombie = (await groupMembers(pid, { zombies: true })).find((member) => member !== pid)!;
    await waitFor(async () => (await readFile(`/proc/${zombie}/stat`, 'utf8')).includes(') Z '));
    expect(await connector.isProcessAlive(zombie)).toBe(false);
    expect(await connector.isProcessAlive(pid)).toBe(true);
  });
});

/**
 * The file methods keep their semantics whichever way they go: through the thread pool, or
 * synchronously for a workspace on a local disk (localDisk.ts), errors as rejections both ways.
 */
describe.each([
  { way: 'through the thread pool', connectorFor: () => connector },
  {
    way: 'synchronously, in a workspace on a local disk',
    connectorFor: (folder: string) => {
      const local = new LocalConnector();
      local.noteWorkspace(folder);
      return local;
    },
  },
])('files, $way', ({ connectorFor }) => {
  let connector: LocalConnector;
  beforeEach(() => {
    connector = connectorFor(directory);
  });

  it('writes atomically with a mode and leaves no temporary file', async () => {
    const path = join(directory, 'process.json');
    await connector.writeFile(path, 'first');
    await connector.writeFile(path, 'second', { mode: 0o600 });
    expect(await connector.readFile(path)).toBe('second');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await connector.readdir(directory)).toEqual(['process.json']);
  });

  it('reads, appends, renames, links and removes', async () => {
    const nested = join(directory, 'a', 'b');
    await connector.mkdir(nested);
    await connector.mkdir(nested);
    const path = join(nested, 'log');
    expect(await connector.readFileIfExists(path)).toBeUndefined();
    expect(await connector.exists(path)).toBe(false);
    await connector.appendFile(path, 'one\n');
    await connector.appendFile(path, 'two\n');
    expect(await connector.readFileIfExists(path)).toBe('one\ntwo\n');
    await connector.rename(path, join(nested, 'moved'));
    await connector.symlink(join(nested, 'moved'), join(directory, 'link'));
    expect(await connector.readFile(join(directory, 'link'))).toBe('one\ntwo\n');
    await expect(connector.readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
    await connector.remove(join(directory, 'a'));
    await connector.remove(join(directory, 'a'));
    expect(await connector.exists(join(directory, 'a'))).toBe(false);
    expect(connector.resolve('relative')).toBe(join(process.cwd(), 'relative'));
    expect(connector.kind).toBe('local');
  });

  it('claims a directory name exclusively, lists entries by kind, reads links and removes only empty directories', async () => {
    const run = join(directory, 'runs', 'r1');
    await expect(connector.mkdir(run, { exclusive: true })).rejects.toMatchObject({ code: 'ENOENT' });
    await connector.mkdir(dirname(run));
    await connector.mkdir(run, { exclusive: true });
    await expect(connector.mkdir(run, { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    await connector.writeFile(join(run, 'file'), 'x');
    await connector.symlink('r1', join(directory, 'runs', 'current'));
    expect(await connector.readlink(join(directory, 'runs', 'current'))).toBe('r1');
    expect(await connector.readlink(join(run, 'file'))).toBeUndefined();
    expect(await connector.readlink(join(run, 'missing'))).toBeUndefined();
    const entries = await connector.listDirectory(join(directory, 'runs'));
    expect(entries.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'current', kind: 'symlink' },
      { name: 'r1', kind: 'directory' },
    ]);
    await expect(connector.rmdir(run)).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    await connector.remove(join(run, 'file'));
    await connector.rmdir(run);
    expect(await connector.exists(run)).toBe(false);
  });
});

describe('local disk', () => {
  it('tells a folder on a disk of this machine from one it cannot vouch for', () => {
    expect(isOnLocalDisk(directory)).toBe(true);
    expect(isOnLocalDisk(join(directory, 'missing'))).toBe(false);
    expect(isOnLocalDisk('/proc')).toBe(false);
  });

  it('writes the small files of a workspace on a local disk before the call returns', async () => {
    const local = new LocalConnector();
    local.noteWorkspace(directory);
    const job = join(directory, 'jobs', 'task', 'hash');
    const made = local.mkdir(job);
    expect(existsSync(job)).toBe(true);
    await made;
    const appended = local.appendFile(join(job, 'params.json'), '{}');
    expect(await readFile(join(job, 'params.json'), 'utf8')).toBe('{}');
    await appended;
  });
});

describe('lock', () => {
  it('creates the parent directory and releases idempotently', async () => {
    const path = join(directory, 'tokens', 'gpu', 'state');
    const release = await connector.lock(path, { waitMs: 0 });
    expect(await connector.exists(`${path}.lock`)).toBe(true);
    await expect(connector.lock(path, { waitMs: 0 })).rejects.toThrow(/another process holds it/);
    await release();
    await release();
    expect(await connector.exists(`${path}.lock`)).toBe(false);
    const again = await connector.lock(path, { waitMs: 0 });
    await again();
  });

  it('waits for a lock another process holds, and is exclusive while it is held', async () => {
    const path = join(directory, 'claim');
    const holder = await startLockHolder(path);
    try {
      await expect(connector.lock(path, { waitMs: 300 })).rejects.toThrow(/another process holds it/);
      const waiting = connector.lock(path, { waitMs: 10_000 });
      holder.child.stdin!.end('release\n');
      const release = await waiting;
      await release();
    } finally {
      holder.child.kill('SIGKILL');
    }
  });

  it('takes over a lock whose holder was killed, once it is stale', async () => {
    const path = join(directory, 'claim');
    const holder = await startLockHolder(path);
    holder.child.kill('SIGKILL');
    await new Promise((resolve) => holder.child.once('exit', resolve));
    expect(await connector.exists(`${path}.lock`)).toBe(true);
    const started = Date.now();
    const release = await connector.lock(path, { staleMs: 2000, waitMs: 10_000 });
    // Taken only once the holder stopped refreshing it for the stale time.
    expect(Date.now() - holder.lockedAt).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(8000);
    await release();
  });
});

/** A second node process that takes the lock through LocalConnector, then holds it until told. */
async function startLockHolder(path: string) {
  const script = `
    import { LocalConnector } from ${JSON.stringify(join(coreDirectory, 'src/connector/localConnector.ts'))};
    const release = await new LocalConnector().lock(${JSON.stringify(path)}, { staleMs: 2000, waitMs: 0 });
    process.stdout.write('locked\\n');
    process.stdin.once('data', async () => { await release(); process.stdout.write('released\\n'); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@baton/source', '--input-type=module', '-e', script], {
    cwd: coreDirectory,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return { child, lockedAt: Date.now() };
}

function spawnerScript(outputDirectory: string): string {
  return `
    import { mkdirSync } from 'node:fs';
    import { LocalConnector } from ${JSON.stringify(join(coreDirectory, 'src/connector/localConnector.ts'))};
    mkdirSync(${JSON.stringify(outputDirectory)}, { recursive: true });
    const { pid } = await new LocalConnector().spawnDetached(['sleep', '30'], {
      cwd: ${JSON.stringify(outputDirectory)},
      stdoutPath: ${JSON.stringify(join(outputDirectory, 'stdout'))},
      stderrPath: ${JSON.stringify(join(outputDirectory, 'stderr'))},
    });
    process.stdout.write(pid + '\\n');
  `;
}

function processGroupOf(stat: string): number {
  // Fields after the command name: state, ppid, pgrp, ...
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Pids whose process group is `pgid`, from /proc; zombies left out unless asked for. */
async function groupMembers(pgid: number, options: { zombies?: boolean } = {}): Promise<number[]> {
  const members: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (stat && processGroupOf(stat) === pgid && (options.zombies || !stat.slice(stat.lastIndexOf(')')).startsWith(') Z'))) {
      members.push(Number(entry));
    }
  }
  return members;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('resolve', () => {
  it('gives what path.resolve gives: a normalized absolute path as it is, anything else resolved', () => {
    const paths = ['/a/b', '/a/./b', '/a/../b', '/a//b', '/a/b/', '/', '/a/b/.', '/a/b/..', '/a/.hidden/b', '/a/..x/b', '/a/b..', 'relative/x', './x', ''];
    for (const path of paths) expect(connector.resolve(path), path).toBe(resolve(path));
  });
});
