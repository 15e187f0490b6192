// The launcher conformance suite: what the scheduler relies on from every launcher,
// checked against a real launcher (made by its plugin's factory) on a real host
// (through its connector), with the job.sh core writes for every job and the
// markers read as the scheduler reads them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError, didYouMean } from '../errors.ts';
import { readProcessFile, writeProcessFile } from '../scheduler/jobMarkers.ts';
import { validateLauncherBlocks } from '../settings/workspaceLaunchers.ts';
import type { Connector, LaunchStatus, Plugin } from '../types.ts';
import { ConformanceHost, LAUNCHER_NAME, type ConformanceCase } from './conformanceHost.ts';
import { HASH_FILE, STARTED_FILE, jobStdout, makeEmptyJobDirectory, schedulerVerdict } from './conformanceJobs.ts';
import { handleWithoutId, neverSubmittedHandle } from './unknownHandles.ts';

export interface LauncherConformanceOptions {
  /** Title of the describe block. */
  name: string;
  /** The plugin's default export (`definePlugin(...)`). */
  plugin: Plugin;
  /** The launcher kind under test: a key of `plugin.launchers`. */
  kind: string;
  /** The launcher's settings block without `use`, as a settings file would give it (core validates it with the kind's schema). */
  settings: Record<string, unknown>;
  /** A real connector to the host the jobs run on; default this machine's (`LocalConnector`). Closed at the end. */
  connector?: () => Connector | Promise<Connector>;
  /**
   * A folder, as the host sees it, under which the kit makes a fresh workspace folder for its
   * jobs (and removes it at the end); default a fresh temporary folder of the host (`mktemp -d`).
   * A cluster launcher needs one its nodes see.
   */
  workspace?: () => string | Promise<string>;
  /** A reason to skip the whole suite (e.g. the cluster is not running: say how to start it). */
  skip?: false | string;
  /** How long one job may take to be queued, run and end; each test takes at most a few of these. Default 60 s. */
  timeoutMs?: number;
  /**
   * How long after its `submittedAt` a handle the launcher does not find may still be
   * answered `queued` (a cluster's records lag behind a submission: the SLURM and OAR
   * launchers wait 60 s). Default 0: a job the launcher does not find is `finished` at once.
   */
  missingJobGraceMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** The most waits for a job one test has in a row: its timeout leaves room for all of them. */
const WAITS_PER_TEST = 5;
/** How much older than the grace the handle of a job that never existed is made. */
const LONG_AGO_MS = 60_000;

type State = LaunchStatus['state'];
const WHILE_GATED: readonly State[] = ['queued', 'running'];
const UNTIL_FINISHED: readonly State[] = ['queued', 'running', 'finished'];
const AFTER_RUNNING: readonly State[] = ['running', 'finished'];
const allFinished = (statuses: readonly LaunchStatus[]) => statuses.every((status) => status.state === 'finished');

/**
 * Defines a Vitest `describe` block that checks a launcher against the contract the
 * scheduler relies on. Call it at the top level of a test file of the plugin:
 *
 * ```ts
 * launcherConformance({ name: 'echo-local launcher', plugin, kind: 'echo-local', settings: { tag: 'kit' } });
 * ```
 *
 * Every test makes a fresh launcher with the plugin's factory (the settings validated by
 * core, as a settings file's block is), real job directories with core's job.sh, and
 * reads the markers job.sh writes, all through the connector. The contract:
 *
 * - `submit` answers one outcome per request, in order; each handle names the launcher
 *   (`launcher`, `kind`), the request's `directory` and an ISO 8601 `submittedAt`; job.sh
 *   runs in its directory, with its output appended to `stdout` there.
 * - `status` answers one status per handle, in order, in one call; a job is `queued` or
 *   `running` until it ends, then `finished` (the scheduler then reads the markers), and
 *   stays `finished` when asked again. A job the launcher runs is never `unknown`.
 * - An exit code reaches the markers: 0 is `done`, 3 is `failed` with code 3.
 * - `cancel` ends a queued or running job; the scheduler records it `failed`, reason `cancelled`.
 * - Re-attach: a handle written to `process.json` and read back is followed, and cancelled,
 *   by a fresh launcher from the same factory (another process, after a restart).
 * - Handles of jobs that never existed (a pid or cluster id nothing has, an empty directory)
 *   are answered without throwing, alone and among real ones, and never `running`:
 *   `finished` once older than `missingJobGraceMs` (the scheduler then finds no marker and
 *   records the job lost, or retries it on re-attach), `queued` allowed before. `unknown`
 *   is for a handle the launcher cannot check (no pid or cluster id, another host): the
 *   scheduler follows such a job by its markers only, as long as it takes, so a launcher
 *   that answered `unknown` for a job it could look for would have it waited for forever.
 * - The kind's settings schema rejects an unknown key with a did-you-mean, through core's
 *   launcher-block validation.
 *
 * The tests run one after the other, each with at most two jobs waiting at once, so a
 * cluster with few free slots does not deadlock them. The kit is for launchers that run
 * job.sh (not `threads`, which runs function tasks inside the experiment's process).
 */
export function launcherConformance(options: LauncherConformanceOptions): void {
  const { name, plugin, kind, settings, skip = false } = options;
  checkKind(plugin, kind);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const graceMs = options.missingJobGraceMs ?? 0;
  const host = new ConformanceHost({
    plugin,
    kind,
    settings,
    timeoutMs,
    ...(options.connector ? { connector: options.connector } : {}),
    ...(options.workspace ? { workspace: options.workspace } : {}),
  });
  const test = (title: string, body: (run: ConformanceCase) => Promise<void>) =>
    it(
      title,
      async () => {
        const run = host.case();
        try {
          await body(run);
        } finally {
          await run.end();
        }
      },
      WAITS_PER_TEST * timeoutMs,
    );

  (skip ? describe.skip : describe)(skip ? `${name} (skipped: ${skip})` : name, () => {
    beforeAll(() => host.open(), timeoutMs);
    afterAll(() => host.close(), timeoutMs);

    test("submits a batch: one outcome per request, in order; each job's job.sh runs in its own directory", async (run) => {
      const launcher = await run.launcher();
      const jobs = [await run.job(), await run.job(), await run.job()];
      const handles = await run.submit(launcher, jobs);
      const statuses = await run.follow(launcher, handles, { what: 'the batch to finish', allowed: handles.map(() => UNTIL_FINISHED), until: allFinished });
      for (const [index, job] of jobs.entries()) {
        expect(await schedulerVerdict(run.connector, job, statuses[index]!), `job ${index}`).toMatchObject({ state: 'done' });
        expect(await run.connector.readFile(`${job.directory}/${HASH_FILE}`), `BATON_JOB_HASH as job ${index} saw it, in its directory`).toBe(`${job.hash}\n`);
        expect(await jobStdout(run.connector, job), `stdout of job ${index}`).toContain('conformance job exiting with 0\n');
      }
    });

    test('reports queued or running while a job runs, finished once it ended, and still finished when asked again', async (run) => {
      const launcher = await run.launcher();
      const job = await run.job({ gated: true });
      const [handle] = await run.submit(launcher, [job]);
      await run.follow(launcher, [handle!], { what: 'the job to run', allowed: [WHILE_GATED], until: ([status]) => status!.state === 'running' });
      await run.release(job);
      const [status] = await run.follow(launcher, [handle!], { what: 'the released job to finish', allowed: [AFTER_RUNNING], until: allFinished });
      expect(await schedulerVerdict(run.connector, job, status!)).toMatchObject({ state: 'done' });
      const [again] = await launcher.status([handle!]);
      expect(again?.state, 'a finished job asked about again').toBe('finished');
    });

    test('exit codes reach the markers: 0 is done, 3 is failed with code 3', async (run) => {
      const launcher = await run.launcher();
      const jobs = [await run.job({ exitCode: 0 }), await run.job({ exitCode: 3 })];
      const handles = await run.submit(launcher, jobs);
      const statuses = await run.follow(launcher, handles, { what: 'both jobs to finish', allowed: [UNTIL_FINISHED, UNTIL_FINISHED], until: allFinished });
      const done = await schedulerVerdict(run.connector, jobs[0]!, statuses[0]!);
      expect(done, 'the job that exited with 0').toMatchObject({ state: 'done' });
      if (done.state === 'done' && done.provenance) expect(done.provenance.exitCode).toBe(0);
      expect(await schedulerVerdict(run.connector, jobs[1]!, statuses[1]!), 'the job that exited with 3').toMatchObject({
        state: 'failed',
        marker: 'failed',
        failure: { code: 3, reason: 'failed' },
      });
    });

    test('cancel ends a running job, which the scheduler records as failed, reason cancelled', async (run) => {
      const launcher = await run.launcher();
      const job = await run.job({ gated: true });
      const [handle] = await run.submit(launcher, [job]);
      // Running, and its command started: job.sh has set its traps.
      await run.follow(launcher, [handle!], {
        what: 'the job to run',
        allowed: [WHILE_GATED],
        until: async ([status]) => status!.state === 'running' && (await run.connector.exists(`${job.directory}/${STARTED_FILE}`)),
      });
      await launcher.cancel([handle!]);
      const [status] = await run.follow(launcher, [handle!], { what: 'the cancelled job to end', allowed: [AFTER_RUNNING], until: allFinished });
      const verdict = await schedulerVerdict(run.connector, job, status!, { cancelRequested: true });
      expect(verdict).toMatchObject({ state: 'failed', failure: { reason: 'cancelled' } });
      expect(await jobStdout(run.connector, job), 'the output of the cancelled job').not.toContain('exiting with');
    });

    test("re-attach: a fresh launcher made by the plugin's factory follows, and cancels, jobs from the handles in their process.json", async (run) => {
      const first = await run.launcher();
      const jobs = [await run.job({ gated: true }), await run.job({ gated: true })];
      const submitted = await run.submit(first, jobs);
      const handles = [];
      for (const [index, handle] of submitted.entries()) {
        await writeProcessFile(run.connector, handle);
        const read = await readProcessFile(run.connector, jobs[index]!.directory);
        expect(read, `handle ${index} read back from process.json`).toEqual(JSON.parse(JSON.stringify(handle)));
        handles.push(read!);
      }
      // The process that launched them is gone; another one takes over from the files.
      await first.close?.();
      const fresh = await run.launcher();
      // The second one cancelled while queued, or once its command started (job.sh has set its traps).
      await run.follow(fresh, handles, {
        what: 'the fresh launcher to find both jobs, the second one queued or started',
        allowed: [WHILE_GATED, WHILE_GATED],
        until: async (statuses) => statuses[1]!.state === 'queued' || (await run.connector.exists(`${jobs[1]!.directory}/${STARTED_FILE}`)),
      });
      await fresh.cancel([handles[1]!]);
      const afterCancel = await run.follow(fresh, handles, {
        what: 'the job the fresh launcher cancelled to end',
        allowed: [WHILE_GATED, UNTIL_FINISHED],
        until: (statuses) => statuses[1]!.state === 'finished',
      });
      expect(await schedulerVerdict(run.connector, jobs[1]!, afterCancel[1]!, { cancelRequested: true })).toMatchObject({ state: 'failed', failure: { reason: 'cancelled' } });
      await run.follow(fresh, [handles[0]!], { what: 'the other job to run', allowed: [WHILE_GATED], until: ([status]) => status!.state === 'running' });
      await run.release(jobs[0]!);
      const [status] = await run.follow(fresh, [handles[0]!], { what: 'the released job to finish', allowed: [AFTER_RUNNING], until: allFinished });
      expect(await schedulerVerdict(run.connector, jobs[0]!, status!)).toMatchObject({ state: 'done' });
    });

    test('answers about handles of jobs that never existed without throwing, alone and among real ones, and never says running', async (run) => {
      const launcher = await run.launcher();
      const job = await run.job();
      const [real] = await run.submit(launcher, [job]);
      await run.follow(launcher, [real!], { what: 'the job to finish', allowed: [UNTIL_FINISHED], until: allFinished });
      const empty = () => makeEmptyJobDirectory(run.connector, host.workspacePath);
      const longAgo = await neverSubmittedHandle(run.connector, real!, { directory: await empty(), submittedAt: new Date(Date.now() - graceMs - LONG_AGO_MS) });
      const justNow = await neverSubmittedHandle(run.connector, real!, { directory: await empty(), submittedAt: new Date() });
      const withoutId = handleWithoutId(real!, await empty());
      // Another process asks: a launcher that never saw these jobs either.
      const fresh = await run.launcher();
      const [alone] = await askAbout(fresh.status([longAgo]), 'a handle of a job that never existed');
      expect(alone?.state, `a job that never existed, handed over ${Math.round((graceMs + LONG_AGO_MS) / 1000)} s ago`).toBe('finished');
      const statuses = await askAbout(fresh.status([real!, longAgo, justNow, withoutId]), 'handles of jobs that never existed among a real one');
      expect(statuses.map((status) => status.state)).toHaveLength(4);
      expect(statuses[0]?.state, 'the real job, finished').toBe('finished');
      expect(statuses[1]?.state, 'a job that never existed, handed over long ago').toBe('finished');
      expect(graceMs > 0 ? ['queued', 'finished'] : ['finished'], `a job that never existed, handed over just now (missingJobGraceMs: ${graceMs})`).toContain(statuses[2]?.state);
      expect(['unknown', 'finished'], 'a handle without the id the launcher follows jobs by').toContain(statuses[3]?.state);
    });

    test('answers many handles in one status call, in order', async (run) => {
      const launcher = await run.launcher();
      const ended = [await run.job({ exitCode: 0 }), await run.job({ exitCode: 3 })];
      const endedHandles = await run.submit(launcher, ended);
      await run.follow(launcher, endedHandles, { what: 'two jobs to finish', allowed: [UNTIL_FINISHED, UNTIL_FINISHED], until: allFinished });
      const gated = await run.job({ gated: true });
      const [runningHandle] = await run.submit(launcher, [gated]);
      await run.follow(launcher, [runningHandle!], { what: 'the third job to run', allowed: [WHILE_GATED], until: ([status]) => status!.state === 'running' });
      // The newest job first: answers in another order (reversed, or by job id) do not pass.
      const statuses = await launcher.status([runningHandle!, endedHandles[0]!, endedHandles[1]!]);
      expect(statuses.map((status) => status.state), 'one call about a running job, then two finished ones').toEqual(['running', 'finished', 'finished']);
      await run.release(gated);
      await run.follow(launcher, [runningHandle!], { what: 'the released job to finish', allowed: [AFTER_RUNNING], until: allFinished });
    });

    it("its settings schema rejects an unknown key, with a did-you-mean, through core's launcher-block validation", () => {
      const validated = validateLauncherBlocks({ workspace: host.workspace(), plugins: [plugin] });
      expect(validated.map((launcher) => [launcher.name, launcher.kind]), 'the settings given to the kit').toEqual([[LAUNCHER_NAME, kind]]);
      const { key, typo } = misspelling([...Object.keys(settings), ...Object.keys(asRecord(validated[0]!.settings))]);
      const values = { ...asRecord(validated[0]!.settings), ...settings };
      const block = { ...settings, [typo]: key === undefined ? true : values[key] };
      let error: unknown;
      try {
        validateLauncherBlocks({ workspace: host.workspace(host.block(block)), plugins: [plugin] });
      } catch (caught) {
        error = caught;
      }
      expect(error, `a block with the unknown key "${typo}"`).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues).toEqual([
        { path: `launchers.${LAUNCHER_NAME}.${typo}`, message: key === undefined ? `unknown key "${typo}"` : `unknown key "${typo}" (did you mean "${key}"?)` },
      ]);
    });
  });
}

/** Refuses, when the test file is read, a kind the plugin does not declare. */
function checkKind(plugin: Plugin, kind: string): void {
  const kinds = Object.keys(plugin?.launchers ?? {});
  if (kinds.includes(kind)) return;
  throw new Error(
    `launcherConformance: plugin "${plugin?.name}" declares no launcher kind "${kind}"${didYouMean(kind, kinds)}; its kinds: ${kinds.join(', ') || 'none'}. Pass the plugin's default export and one of its launcher kinds.`,
  );
}

/** A status call that must answer, not throw; its error says which call it was. */
async function askAbout(call: Promise<LaunchStatus[]>, about: string): Promise<LaunchStatus[]> {
  try {
    return await call;
  } catch (error) {
    throw new Error(`status threw when asked about ${about}: ${(error as Error).message}`, { cause: error });
  }
}

/** A misspelling of the first known key (a letter left out, or doubled in a short key); without keys, a key no schema has. */
function misspelling(keys: readonly string[]): { key?: string; typo: string } {
  const known = new Set(keys);
  for (const key of known) {
    const middle = Math.floor(key.length / 2);
    const typo = key.length > 3 ? key.slice(0, middle) + key.slice(middle + 1) : `${key}${key.at(-1) ?? ''}`;
    if (!known.has(typo)) return { key, typo };
  }
  return { typo: 'conformanceUnknownKey' };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
