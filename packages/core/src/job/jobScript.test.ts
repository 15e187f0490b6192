// job.sh run for real by /bin/sh: its markers, their provenance, and a cheap success path.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalConnector } from '../connector/localConnector.ts';
import { readMarkers } from '../scheduler/jobMarkers.ts';
import { BOOT_TIME_KEPT_S, jobScript } from './jobScript.ts';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'baton-jobsh-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/**
 * Writes job.sh for argv and runs it in a process group of its own, as launchers do;
 * `signal` is sent once the command has printed `started`, to the group (as launchers
 * stop a job) or, with `signalScriptOnly`, to job.sh alone.
 */
async function runJob(
  argv: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    signal?: NodeJS.Signals;
    signalScriptOnly?: boolean;
    resumable?: boolean;
    /** Runs once the command has started, before the signal. */
    beforeSignal?: () => Promise<void>;
  } = {},
): Promise<number | null> {
  const script = join(directory, 'job.sh');
  await writeFile(script, jobScript({ taskId: 'demo', hash: 'f'.repeat(64), directory, argv, env: {}, resumable: options.resumable ?? false }));
  const child = spawn('/bin/sh', [script], { env: options.env ?? process.env, stdio: 'ignore', detached: true });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  if (options.signal) {
    await untilStarted();
    await options.beforeSignal?.();
    if (options.signalScriptOnly) child.kill(options.signal);
    else process.kill(-child.pid!, options.signal);
  }
  return exited;
}

async function untilStarted(): Promise<void> {
  const started = Date.now();
  while (!(await readFile(join(directory, 'stdout'), 'utf8').catch(() => '')).includes('started')) {
    if (Date.now() - started > 10_000) throw new Error('the job did not start');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const kernelHost = existsSync('/proc/sys/kernel/hostname') ? (await readFile('/proc/sys/kernel/hostname', 'utf8')).trim() : hostname();

describe('job.sh', () => {
  it('is never written from values it would change: NUL bytes and invalid names are refused', () => {
    const base = { taskId: 't', hash: 'a'.repeat(64), directory: '/tmp/x' };
    expect(() => jobScript({ ...base, argv: ['echo', 'a\0b'], env: {} })).toThrow(/Argument 1 of the command contains a NUL byte/);
    expect(() => jobScript({ ...base, argv: ['true'], env: { DATA: 'a\0b' } })).toThrow(/Environment variable DATA contains a NUL byte/);
    expect(() => jobScript({ ...base, argv: ['true'], env: { 'NOT-A-NAME': 'x' } })).toThrow(/Invalid environment variable name/);
    expect(jobScript({ ...base, argv: ['echo', "it's $HOME"], env: { DATA: 'a b' } })).toContain("export DATA='a b'");
  });

  it('writes a done marker with start, end, host and exit code, without running any program but the job', async () => {
    const before = Date.now();
    // An empty PATH: `date`, `rm`, `uname`... would fail; `echo` is the shell's own. A $TMPDIR of
    // its own: the boot time another job kept (up to BOOT_TIME_KEPT_S ago, before the clock was
    // last set: CI saw one 2 s off) is not this test's subject.
    expect(await runJob(['echo', 'hello'], { env: { PATH: '', TMPDIR: directory } })).toBe(0);
    const after = Date.now();
    const marker = JSON.parse(await readFile(join(directory, 'done'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(marker).sort()).toEqual(['code', 'end', 'host', 'start']);
    expect(marker).toMatchObject({ code: 0, host: kernelHost });
    const start = (marker.start as number) * 1000;
    const end = (marker.end as number) * 1000;
    // Without date on the PATH, the first job of a boot takes the kernel's btime (whole seconds): allow a second.
    expect(start).toBeGreaterThan(before - 1500);
    expect(end).toBeLessThan(after + 1500);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(await readFile(join(directory, 'stderr'), 'utf8')).toBe('');
    const read = await readMarkers(new LocalConnector(), directory);
    expect(read).toMatchObject({ state: 'done', provenance: { host: kernelHost, exitCode: 0 } });
  });

  it('folds the peak memory a command leaves in peak_rss into its marker, done or failed', async () => {
    expect(await runJob(['sh', '-c', 'echo 52428800 >peak_rss'], { env: { PATH: process.env.PATH ?? '' } })).toBe(0);
    const done = JSON.parse(await readFile(join(directory, 'done'), 'utf8')) as Record<string, unknown>;
    expect(done).toMatchObject({ code: 0, host: kernelHost, peakRssBytes: 52428800 });
    expect(await readMarkers(new LocalConnector(), directory)).toMatchObject({ state: 'done', provenance: { exitCode: 0, peakRssBytes: 52428800 } });
    await rm(join(directory, 'done'));
    expect(await runJob(['sh', '-c', 'echo 2048 >peak_rss; exit 3'])).toBe(3);
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ code: 3, reason: 'failed', peakRssBytes: 2048 });
  });

  it('drops the peak memory an earlier attempt left, and a peak_rss that is not a number', async () => {
    await writeFile(join(directory, 'peak_rss'), '52428800\n');
    expect(await runJob(['true'])).toBe(0);
    expect(Object.keys(JSON.parse(await readFile(join(directory, 'done'), 'utf8')) as object).sort()).toEqual(['code', 'end', 'host', 'start']);
    expect(existsSync(join(directory, 'peak_rss'))).toBe(false);
    for (const junk of ['12", "x": "y', '0123', '-5', '']) {
      await rm(join(directory, 'done'));
      expect(await runJob(['sh', '-c', 'printf "%s\\n" "$1" >peak_rss', 'sh', junk])).toBe(0);
      const marker = JSON.parse(await readFile(join(directory, 'done'), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(marker).sort()).toEqual(['code', 'end', 'host', 'start']);
    }
  });

  it('puts the reason a command left in failure_message (a JSON string: the runner leaves what a task threw) in its failed marker', async () => {
    const message = JSON.stringify('bad "n": 2\\ 100% \u00e9');
    expect(await runJob(['sh', '-c', 'printf "%s\\n" "$1" >failure_message; exit 3', 'sh', message])).toBe(3);
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ code: 3, reason: 'failed', message: 'bad "n": 2\\ 100% \u00e9' });
    expect(await readMarkers(new LocalConnector(), directory)).toMatchObject({ state: 'failed', failure: { code: 3, message: 'bad "n": 2\\ 100% \u00e9' } });
  });

  it('drops the failure an earlier attempt left, and says the exit code when failure_message is not a JSON string', async () => {
    await writeFile(join(directory, 'failure_message'), '"the earlier attempt threw"\n');
    expect(await runJob(['sh', '-c', 'exit 2'])).toBe(2);
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ code: 2, message: 'exited with code 2' });
    for (const junk of ['no quotes', '"unterminated', '']) {
      expect(await runJob(['sh', '-c', 'printf "%s\\n" "$1" >failure_message; exit 4', 'sh', junk])).toBe(4);
      expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ code: 4, message: 'exited with code 4' });
    }
  });

  describe.runIf(existsSync('/proc/sys/kernel/random/boot_id'))('its clock (Linux: boot time kept per boot and user, plus uptime)', () => {
    const bootId = existsSync('/proc/sys/kernel/random/boot_id') ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : '';
    const cacheOf = (user: string) => join(directory, `baton-boot-cs-${user}-${bootId}`);
    /** The boot time in hundredths of a second, from this process's clock. */
    const bootNow = () => Date.now() / 10 - uptimeNow() * 100;
    const uptimeNow = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    /** The boot time kept in a user's file (its first field; the second is the uptime it was worked out at). */
    const keptBoot = (user: string) => Number(readFileSync(cacheOf(user), 'utf8').split(' ')[0]);
    /** A kept boot time `offBy` hundredths early, worked out `ago` seconds of uptime ago. */
    const keep = (options: { offBy: number; ago: number }) => writeFile(cacheOf('tester'), `${Math.round(bootNow()) - options.offBy} ${Math.floor(uptimeNow()) - options.ago}\n`);
    const startOf = async () => (JSON.parse(await readFile(join(directory, 'done'), 'utf8')) as { start: number }).start * 1000;

    it('times a job to the hundredth of the wall clock, not up to a second early as the kernel\'s btime (whole seconds) would', async () => {
      const env = { PATH: process.env.PATH ?? '', TMPDIR: directory, USER: 'tester' };
      const before = Date.now();
      expect(await runJob(['true'], { env })).toBe(0);
      const after = Date.now();
      const start = await startOf();
      // Hundredths of a second from two truncated clocks (the wall clock once per boot, uptime at
      // each look): within a hundredth either way, and the moment between reading them.
      expect(start).toBeGreaterThanOrEqual(before - 25);
      expect(start).toBeLessThanOrEqual(after + 25);
      expect(Math.abs(keptBoot('tester') - bootNow())).toBeLessThan(10);
    });

    it('reads the boot time of its user from $TMPDIR, and works it out again when that file is not two numbers', async () => {
      const env = { PATH: process.env.PATH ?? '', TMPDIR: directory, USER: 'tester' };
      // Five seconds off: a job that reads it says so.
      await keep({ offBy: 500, ago: 10 });
      let before = Date.now();
      expect(await runJob(['true'], { env })).toBe(0);
      expect(before - (await startOf())).toBeGreaterThan(4000);
      // An earlier version's file (the boot time alone) is worked out again, as is junk.
      for (const junk of [`${Math.round(bootNow()) - 500}`, '12; rm -rf /', `${Math.round(bootNow()) - 500} 012`, `${Math.round(bootNow()) - 500} 1; rm -rf /`, '0', '']) {
        await writeFile(cacheOf('tester'), `${junk}\n`);
        await rm(join(directory, 'done'));
        before = Date.now();
        expect(await runJob(['true'], { env })).toBe(0);
        expect(Math.abs((await startOf()) - before)).toBeLessThan(1000);
        expect(Math.abs(keptBoot('tester') - bootNow())).toBeLessThan(10);
      }
    });

    it(`works the boot time out again once it was kept for more than ${BOOT_TIME_KEPT_S} s of uptime (the wall clock may have been set since)`, async () => {
      const env = { PATH: process.env.PATH ?? '', TMPDIR: directory, USER: 'tester' };
      await keep({ offBy: 500, ago: BOOT_TIME_KEPT_S + 1 });
      const before = Date.now();
      expect(await runJob(['true'], { env })).toBe(0);
      expect(Math.abs((await startOf()) - before)).toBeLessThan(1000);
      expect(Math.abs(keptBoot('tester') - bootNow())).toBeLessThan(10);
      // Kept with the uptime it was worked out at.
      expect(Math.abs(Number(readFileSync(cacheOf('tester'), 'utf8').split(' ')[1]) - uptimeNow())).toBeLessThan(5);
    });

    it('falls back to the kernel\'s btime where date cannot say nanoseconds (here: no date on the PATH), and keeps none of it', async () => {
      const btime = Number(/^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))![1]);
      const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
      expect(await runJob(['echo'], { env: { PATH: '', TMPDIR: directory, USER: 'tester' } })).toBe(0);
      // btime + uptime, to the hundredth of the uptime.
      expect(Math.abs((await startOf()) / 1000 - (btime + uptime))).toBeLessThan(1);
      expect(await readFile(join(directory, 'stderr'), 'utf8')).toBe('');
      // Whole seconds are not kept: the next job that has date works the boot time out to the hundredth.
      expect(existsSync(cacheOf('tester'))).toBe(false);
      await rm(join(directory, 'done'));
      const before = Date.now();
      expect(await runJob(['true'], { env: { PATH: process.env.PATH ?? '', TMPDIR: directory, USER: 'tester' } })).toBe(0);
      expect(Math.abs((await startOf()) - before)).toBeLessThan(1000);
      expect(Math.abs(keptBoot('tester') - bootNow())).toBeLessThan(10);
    });

    // Only root can make a file another user owns.
    it.runIf(process.getuid?.() === 0)('never trusts a boot time file another user owns', async () => {
      await keep({ offBy: 500, ago: 10 });
      await chown(cacheOf('tester'), 65534, 65534);
      const before = Date.now();
      expect(await runJob(['true'], { env: { PATH: process.env.PATH ?? '', TMPDIR: directory, USER: 'tester' } })).toBe(0);
      expect(Math.abs((await startOf()) - before)).toBeLessThan(1000);
    });
  });

  it('records a command ended by SIGTERM before job.sh got its own (SLURM signals every process) as cancelled, and keeps a marker Baton wrote first', async () => {
    // The command signals itself: job.sh is not signalled at all, as when scancel reaches the command first.
    expect(await runJob(['sh', '-c', 'kill -TERM $$'])).toBe(143);
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ code: 143, reason: 'cancelled', message: 'terminated by SIGTERM' });
    // Baton recorded why while the job ran (a time limit its launcher saw first): that stands.
    await rm(join(directory, 'failed'));
    expect(await runJob(['sh', '-c', `echo '{"code":null,"reason":"timeout","message":"time limit"}' > failed; kill -TERM $$`])).toBe(143);
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ reason: 'timeout' });
    // Another code is the command's own failure.
    await rm(join(directory, 'failed'));
    expect(await runJob(['sh', '-c', 'exit 7'])).toBe(7);
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ code: 7, reason: 'failed' });
  });

  it('writes a failed marker with the exit code, reason and provenance', async () => {
    expect(await runJob(['sh', '-c', 'sleep 0.3; exit 3'])).toBe(3);
    expect(existsSync(join(directory, 'done'))).toBe(false);
    const marker = JSON.parse(await readFile(join(directory, 'failed'), 'utf8')) as Record<string, number | string>;
    expect(marker).toMatchObject({ code: 3, reason: 'failed', message: 'exited with code 3', host: kernelHost });
    expect((marker.end as number) - (marker.start as number)).toBeGreaterThanOrEqual(0.25);
    const read = await readMarkers(new LocalConnector(), directory);
    expect(read.state === 'failed' && read.provenance?.durationSeconds).toBeGreaterThanOrEqual(0.25);
  });

  it.each([false, true])('records a SIGTERM to the job\'s process group as cancelled, with its provenance (resumable: %s)', async (resumable) => {
    const started = Date.now();
    expect(await runJob(['sh', '-c', 'echo started; sleep 30'], { signal: 'SIGTERM', resumable })).toBe(143);
    expect(Date.now() - started).toBeLessThan(10_000);
    const marker = JSON.parse(await readFile(join(directory, 'failed'), 'utf8')) as Record<string, unknown>;
    expect(marker).toMatchObject({ code: 143, reason: 'cancelled', message: 'terminated by SIGTERM', host: kernelHost });
    expect(typeof marker.start).toBe('number');
    expect(marker.end as number).toBeGreaterThanOrEqual(marker.start as number);
  });

  it('runs a command in the foreground, with SIGINT at its default (no fork of the shell, no signal ignored)', async () => {
    // A background command of a POSIX shell starts with SIGINT and SIGQUIT ignored.
    const script = 'grep "^SigIgn:" /proc/self/status; echo "parent $PPID"';
    expect(await runJob(['sh', '-c', script])).toBe(0);
    const output = await readFile(join(directory, 'stdout'), 'utf8');
    expect(output).toMatch(/^SigIgn:\s*0+\n/);
    expect(await runJob(['sh', '-c', script], { resumable: true })).toBe(0);
    expect((await readFile(join(directory, 'stdout'), 'utf8')).slice(output.length)).toMatch(/^SigIgn:\s*0+6\n/);
  });

  it('passes a SIGTERM sent to job.sh alone on to a resumable task\'s command; another command\'s job.sh handles it once its command ends', async () => {
    expect(await runJob(['sh', '-c', 'echo started; sleep 30'], { signal: 'SIGTERM', signalScriptOnly: true, resumable: true })).toBe(143);
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ code: 143, reason: 'cancelled' });
    await Promise.all(['failed', 'stdout'].map((file) => rm(join(directory, file))));
    const started = Date.now();
    expect(await runJob(['sh', '-c', 'echo started; sleep 1'], { signal: 'SIGTERM', signalScriptOnly: true })).toBe(143);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(JSON.parse(await readFile(join(directory, 'failed'), 'utf8'))).toMatchObject({ code: 143, reason: 'cancelled', message: 'terminated by SIGTERM' });
  });

  it.each([false, true])("keeps the reason Baton recorded while it was being stopped (a time limit its launcher saw first; resumable: %s)", async (resumable) => {
    const timeout = '{"code":null,"reason":"timeout","message":"SLURM job 9 reached its time limit"}\n';
    const beforeSignal = () => writeFile(join(directory, 'failed'), timeout);
    expect(await runJob(['sh', '-c', 'echo started; sleep 30'], { signal: 'SIGTERM', resumable, beforeSignal })).toBe(143);
    expect(await readFile(join(directory, 'failed'), 'utf8')).toBe(timeout);
  });

  it('removes the failed marker of the attempt it replaces (a requeued cluster job), so that it ends with done alone', async () => {
    await writeFile(join(directory, 'failed'), '{"code":143,"reason":"cancelled","message":"terminated by SIGTERM"}\n');
    expect(await runJob(['sh', '-c', 'exit 0'])).toBe(0);
    expect(existsSync(join(directory, 'failed'))).toBe(false);
    expect(existsSync(join(directory, 'done'))).toBe(true);
  });
});
