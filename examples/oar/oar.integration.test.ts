// The OAR example, run as its README says (`baton run-experiment oar.yaml` in this
// folder, as a user OAR accepts), against the real one-node OAR of `sudo bash
// scripts/oar-cluster.sh start`. OAR refuses root's jobs: run as root (CI), this
// test process becomes the cluster's test user first. The settings file is used as
// written; its workspace, `~/baton-examples/oar`, lands in a fresh folder of that
// user's home because HOME points there, and is removed at the end.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBaton, type BatonResult } from '../../packages/cli/src/testing/runBaton.ts';
import { becomeClusterUser, clusterUser, oarClusterUp, START_HINT } from '../../plugins/launcher-oar/src/testing/oarCluster.ts';

const clusterUp = oarClusterUp();
const inCI = process.env.CI === 'true';
if (!clusterUp && !inCI) console.warn(`OAR example test skipped: no OAR cluster answers \`oarnodes -s\`; ${START_HINT}`);

const EXAMPLE = fileURLToPath(new URL('.', import.meta.url));
/** What the settings file says; `~` is the HOME the test gives the command. */
const WORKSPACE_LINE = 'path: ~/baton-examples/oar';
const SEEDS = [1, 2, 3, 4];

interface ProcessFile {
  kind: string;
  clusterId: string;
}

/** OAR's record of a job, as `oarstat -J -f -j ID` prints it. */
interface OarJob {
  state: string;
  array_id: number;
  array_index: number;
  name: string;
  exit_code: number | null;
  owner: string;
  events: { type: string }[];
}

describe.skipIf(!clusterUp && !inCI)('examples/oar on the real OAR', () => {
  const homes: string[] = [];
  let user: ReturnType<typeof clusterUser>;

  beforeAll(async () => {
    if (!clusterUp) throw new Error(`CI=true but no OAR cluster answers \`oarnodes -s\`: the OAR example test cannot run; ${START_HINT}`);
    if (!existsSync(join(EXAMPLE, 'node_modules/@baton/launcher-oar'))) {
      throw new Error(`${EXAMPLE}node_modules/@baton/launcher-oar is missing: run \`npx -y pnpm@10.34.8 install\` at the repository root`);
    }
    expect(await readFile(join(EXAMPLE, 'baton.config.yaml'), 'utf8')).toContain(WORKSPACE_LINE);
    user = clusterUser();
    becomeClusterUser(user);
  });

  afterAll(async () => {
    await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
  });

  /** A fresh HOME in the cluster user's home: the workspace is `<it>/baton-examples/oar`. */
  async function freshHome(): Promise<{ home: string; workspace: string }> {
    const home = await mkdtemp(join(user.home, 'baton-example-oar-it-'));
    homes.push(home);
    return { home, workspace: join(home, 'baton-examples', 'oar') };
  }

  // Two runs side by side, each in its own workspace: the walltime of the second takes a minute.
  describe.concurrent('runs', () => {
    it('runs the sweep as the cluster user, the simulate jobs as one OAR array, and nothing twice', async ({ expect }) => {
      const { home, workspace } = await freshHome();
      const overrides = ['-c', `seeds=${JSON.stringify(SEEDS)}`, '-c', 'steps=4'];
      const first = await runExample(home, overrides);
      expect(first.code, `${first.stdout}${first.stderr}`).toBe(0);
      expect(first.stdout).toContain(`Finished: ${SEEDS.length + 2} jobs (${SEEDS.length + 2} done)`);

      const pi = Number(await readOnly(workspace, 'combine', 'pi.txt'));
      expect(pi).toBeCloseTo(Math.PI, 1);

      // Each simulate job printed the OAR job it ran in: its own task of one array.
      const simulate = await jobDirectories(workspace, 'simulate');
      expect(simulate).toHaveLength(SEEDS.length);
      const processes = await Promise.all(simulate.map(async (directory) => JSON.parse(await readFile(join(directory, 'process.json'), 'utf8')) as ProcessFile));
      const ids = processes.map((process) => process.clusterId);
      expect(new Set(ids).size).toBe(SEEDS.length);
      for (const [index, directory] of simulate.entries()) {
        expect(processes[index]!.kind).toBe('oar');
        expect(await readFile(join(directory, 'stdout'), 'utf8')).toMatch(new RegExp(`^seed \\d: 3\\.\\d{6} \\(OAR job ${ids[index]} on \\S+\\)\\n$`));
      }
      const records = oarJobs(ids);
      const arrays = new Set(ids.map((id) => records[id]!.array_id));
      expect(arrays.size, JSON.stringify(records)).toBe(1);
      expect(ids.map((id) => records[id]!.array_index).sort((a, b) => a - b)).toEqual(SEEDS.map((_, index) => index + 1));
      for (const id of ids) expect(records[id]).toMatchObject({ state: 'Terminated', exit_code: 0, owner: user.name, name: expect.stringMatching(/^simulate-array-[0-9a-f]{8}$/) });

      // The function task ran on the node, in its own OAR job, from combine's estimate.
      const refineId = JSON.parse(await readOnly(workspace, 'refine', 'process.json')).clusterId as string;
      expect(await readOnly(workspace, 'refine', 'stdout')).toMatch(new RegExp(`^starting from pi ≈ ${pi} in OAR job ${refineId}\\nrefined: pi ≈ 3\\.\\d{6} after 4 steps\\n$`));
      expect(JSON.parse(await readOnly(workspace, 'refine', 'result.json')).pi).toBeCloseTo(Math.PI, 1);

      // Run again: every job is done, none goes to OAR again.
      const again = await runExample(home, overrides);
      expect(again.code, `${again.stdout}${again.stderr}`).toBe(0);
      expect(again.stdout).toContain(`Finished: ${SEEDS.length + 2} jobs (${SEEDS.length + 2} done)`);
      for (const [index, directory] of simulate.entries()) {
        expect(JSON.parse(await readFile(join(directory, 'process.json'), 'utf8')).clusterId).toBe(ids[index]);
        expect((await readFile(join(directory, 'stdout'), 'utf8')).split('\n')).toHaveLength(2);
      }
    });

    it('checkpoints refine on SIGUSR2 before the tight walltime, and resumes it in a new OAR job', async ({ expect }) => {
      const { home, workspace } = await freshHome();
      // 70 s of work on a one-minute walltime, to be signalled 30 s ahead. OAR's sarko checks
      // walltimes every few seconds, so the signal may come later than asked, though always
      // before the walltime: the work outlasts the walltime, so that it comes while refine runs.
      // An attempt gets what its start-up leaves of ~30 s: ~30 steps here, but on a loaded CI four
      // attempts once fell short of 70 steps, so refine allows 5 retries.
      const run = await runExample(home, ['-c', 'seeds=[1]', '-c', 'refineLauncher=tight', '-c', 'steps=70', '-c', 'stepSeconds=1']);
      const stdout = await readOnly(workspace, 'refine', 'stdout').catch((error: unknown) => String(error));
      expect(run.code, `${run.stdout}${run.stderr}\nrefine's stdout:\n${stdout}`).toBe(0);
      expect(run.stdout).toContain('Finished: 3 jobs (3 done)');
      const lines = stdout.trimEnd().split('\n');
      // starting, then (checkpointed, resuming) once per walltime reached, then refined.
      expect(lines[0], stdout).toMatch(/^starting from pi ≈ 3\.\d+ in OAR job \d+$/);
      expect(lines.at(-1), stdout).toMatch(/^refined: pi ≈ 3\.\d{6} after 70 steps$/);
      const rounds = (lines.length - 2) / 2;
      expect(rounds, stdout).toBeGreaterThanOrEqual(1);
      const jobIds = [/in OAR job (\d+)$/.exec(lines[0]!)![1]];
      for (let round = 0; round < rounds; round++) {
        const checkpointed = /^SIGUSR2: checkpointed at step (\d+)\/70; Baton will submit this job again$/.exec(lines[1 + 2 * round]!);
        const resumed = /^resuming at step (\d+)\/70 in OAR job (\d+)$/.exec(lines[2 + 2 * round]!);
        expect(checkpointed, stdout).not.toBeNull();
        expect(resumed?.[1], stdout).toBe(checkpointed![1]);
        jobIds.push(resumed![2]);
      }
      // Each attempt was a new OAR job; the last one is the job's handle now.
      expect(new Set(jobIds).size, stdout).toBe(jobIds.length);
      expect(JSON.parse(await readOnly(workspace, 'refine', 'process.json')).clusterId).toBe(jobIds.at(-1));
      const first = oarJobs([jobIds[0]!])[jobIds[0]!]!;
      expect(first.events.map((event) => event.type)).toContain('CHECKPOINT');
    });
  });
});

/** `baton run-experiment oar.yaml` in the example's folder, as the cluster user, with HOME given. */
function runExample(home: string, overrides: readonly string[]): Promise<BatonResult> {
  // A settings file or workspace of the machine running the tests must not leak in.
  return runBaton(['run-experiment', 'oar.yaml', ...overrides], { cwd: EXAMPLE, env: { HOME: home, XDG_CONFIG_HOME: home } });
}

/** The folders of a task's jobs in the workspace. */
async function jobDirectories(workspace: string, task: string): Promise<string[]> {
  const folder = join(workspace, 'jobs', task);
  return (await readdir(folder)).sort().map((hash) => join(folder, hash));
}

/** A file of the task's only job. */
async function readOnly(workspace: string, task: string, file: string): Promise<string> {
  const directories = await jobDirectories(workspace, task);
  if (directories.length !== 1) throw new Error(`expected one ${task} job in ${workspace}, found ${directories.length}`);
  return readFile(join(directories[0]!, file), 'utf8');
}

/** OAR's records of the jobs, by id (`oarstat -J -f`: finished jobs included). */
function oarJobs(ids: readonly string[]): Record<string, OarJob> {
  const run = spawnSync('oarstat', ['-J', '-f', ...ids.flatMap((id) => ['-j', id])], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`oarstat -J -f exited with ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, OarJob>;
}
