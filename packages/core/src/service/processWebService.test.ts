// The process web service with real processes: python3's http.server on the port it is
// given, commands that fail, hang or die, and owners that end without stopping it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProcessProbe } from '../connector/processLiveness.ts';
import { BatonError } from '../errors.ts';
import { ProcessWebService } from './processWebService.ts';
import { findExecutable } from './serviceProcess.ts';

const HTTP_SERVER = ['python3', '-m', 'http.server', '{port}', '--bind', '{host}'];
const owner = fileURLToPath(new URL('./__fixtures__/serviceOwner.ts', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));

let dir: string;
const started: ProcessWebService[] = [];
const strays: number[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-process-service-'));
});
afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((service) => service.stop()));
  for (const pid of strays.splice(0)) killGroup(pid);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function service(options: ConstructorParameters<typeof ProcessWebService>[0]): ProcessWebService {
  const made = new ProcessWebService({ logFile: join(dir, `${options.id}.log`), ...options });
  started.push(made);
  return made;
}

async function failure(promise: Promise<unknown>): Promise<BatonError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BatonError);
  return error as BatonError;
}

const groupAlive = (pid: number) => new ProcessProbe().isProcessGroupAlive(pid);

describe('ProcessWebService', () => {
  it('runs a command on a free port of 127.0.0.1, answers on its URL, and stops with its whole process group', async () => {
    const http = service({ id: 'files', command: HTTP_SERVER, cwd: dir });
    await writeFile(join(dir, 'hello.txt'), 'hello\n');
    await http.start();
    expect(http.state).toBe('running');
    expect(http.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await (await fetch(`${http.url}hello.txt`)).text()).toBe('hello\n');
    const pid = http.pid!;
    expect(await groupAlive(pid)).toBe(true);
    expect(http.toJSON()).toMatchObject({ id: 'files', state: 'running', url: http.url, keep: false, pid, logFile: join(dir, 'files.log') });

    await http.stop();
    expect(http.state).toBe('stopped');
    expect(http.url).toBeUndefined();
    expect(http.pid).toBeUndefined();
    expect(await groupAlive(pid)).toBe(false);
  });

  it('gives each start a new port, and replaces {port} in the environment too', async () => {
    const script = 'import os, http.server\nhttp.server.HTTPServer(("127.0.0.1", int(os.environ["SERVE_PORT"])), http.server.SimpleHTTPRequestHandler).serve_forever()';
    const http = service({ id: 'env-port', command: ['python3', '-c', script], env: { SERVE_PORT: '{port}' }, path: '/sub/', readyPath: '/' });
    await http.start();
    const first = http.url!;
    expect(first).toMatch(/\/sub\/$/);
    await http.stop();
    await http.start();
    expect((await fetch(http.url!.replace(/sub\/$/, ''))).status).toBe(200);
    await http.stop();
  });

  it('says that a command is not installed before starting anything', async () => {
    const missing = service({ id: 'missing', command: ['baton-no-such-command', '{port}'] });
    const error = await failure(missing.start());
    expect(error.message).toBe('Service "missing" cannot start: the command "baton-no-such-command" is not installed (not found on PATH)');
    expect(error.hint).toContain('full path');
    expect(missing.state).toBe('error');

    const notExecutable = join(dir, 'not-executable');
    await writeFile(notExecutable, '#!/bin/sh\n');
    const error2 = await failure(service({ id: 'no-x', command: [notExecutable] }).start());
    expect(error2.message).toContain(`the command "${notExecutable}" is not installed (not found)`);
  });

  it('quotes the output of a command that exits before it serves', async () => {
    const crash = service({ id: 'crash', command: ['python3', '-c', 'import sys; print("cannot open the log folder", file=sys.stderr); sys.exit(3)', '{port}'] });
    const error = await failure(crash.start());
    expect(error.message).toMatch(/^Service "crash" did not start: "python3" exited \(exit code 3\) before it answered on http:\/\/127\.0\.0\.1:\d+\/; its output ended with:\n {4}cannot open the log folder$/);
    expect(error.where).toBe(join(dir, 'crash.log'));
    expect(crash.state).toBe('error');
  });

  it('stops a command that never answers once its start timeout is over', async () => {
    const pidFile = join(dir, 'silent.pid');
    const silent = service({ id: 'silent', command: ['sh', '-c', 'echo $$ > "$0"; echo "listening soon"; exec sleep 60', pidFile], startTimeoutMs: 700 });
    const error = await failure(silent.start());
    expect(error.message).toMatch(/"sh" did not answer on http:\/\/127\.0\.0\.1:\d+\/ within 1 s \(last: ECONNREFUSED\); it was stopped; its output ended with:\n {4}listening soon$/);
    expect(error.hint).toContain('{port}');
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(await groupAlive(pid)).toBe(false);
  });

  it('turns to error, with its output, when its process dies while it runs', async () => {
    const http = service({ id: 'dies', command: HTTP_SERVER });
    const failed = new Promise<unknown>((resolve) => http.addListener((event) => event.state === 'error' && resolve(event.error)));
    await http.start();
    process.kill(http.pid!, 'SIGKILL');
    const error = (await failed) as BatonError;
    expect(error.message).toMatch(/^Service "dies" stopped on its own \(killed by SIGKILL\); its output ended with:\n {4}Serving HTTP on 127\.0\.0\.1 port \d+/);
    expect(http.url).toBeUndefined();
    await http.stop();
    expect(http.state).toBe('stopped');
  });

  it('is stopped when the process that started it exits without stopping it', async () => {
    const { pid } = await runOwner(['exit']);
    await until(async () => !(await groupAlive(pid)), 'the service to stop after process.exit of its owner');
  });

  it.skipIf(!existsSync('/usr/bin/setpriv'))('is stopped when the process that started it is killed with SIGKILL (Linux)', async () => {
    const { pid, child } = await runOwner(['hang']);
    child.kill('SIGKILL');
    await until(async () => !(await groupAlive(pid)), 'the service to stop after its owner was killed');
  });

  it('runs on after the process that started it when it is kept', async () => {
    const { pid, url } = await runOwner(['exit', 'keep']);
    strays.push(pid);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await groupAlive(pid)).toBe(true);
    expect((await fetch(url)).status).toBe(200);
  });
});

describe('findExecutable', () => {
  it('looks a bare name up on PATH, and checks a path where it is', async () => {
    const bin = join(dir, 'bin');
    await rm(bin, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(bin));
    const tool = join(bin, 'tool');
    await writeFile(tool, '#!/bin/sh\n');
    await chmod(tool, 0o755);
    expect(await findExecutable({ command: 'tool', path: `/nonexistent:${bin}` })).toBe(tool);
    expect(await findExecutable({ command: 'tool', path: '/nonexistent' })).toBeUndefined();
    expect(await findExecutable({ command: './bin/tool', cwd: dir })).toBe(tool);
    expect(await findExecutable({ command: bin })).toBeUndefined();
  });
});

/** Runs the fixture that starts a service, until it prints the service's pid and URL. */
async function runOwner(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@baton/source', owner, ...args], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk) => (output += chunk));
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`the owner exited (${code}) before its service served: ${output}`)));
  });
  const { pid, url } = JSON.parse(line) as { pid: number; url: string };
  strays.push(pid);
  return { pid, url, child };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}
