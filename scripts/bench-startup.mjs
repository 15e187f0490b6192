#!/usr/bin/env node
// Startup benchmark: how long `baton` takes before it does anything, and how long a
// function task's job process takes to start, side by side with `node -e 0` in the
// same run.
//   node scripts/bench-startup.mjs [--repeats 15]
// Runs the built packages (`pnpm run build` first). Prints minimum and median wall
// time per row and the ratio to `node -e 0`; not a timed test. See docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuModel, format, median } from './bench/figures.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BATON = join(ROOT, 'packages/cli/bin/baton.js');
const RUNNER = join(ROOT, 'packages/core/dist/job/runner.js');

const { values: args } = parseArgs({ options: { repeats: { type: 'string', default: '15' }, keep: { type: 'boolean', default: false } } });
const repeats = Number(args.repeats);
const note = (line) => process.stderr.write(`${line}\n`);

note(`machine: ${cpuModel()}, node ${process.version}, load ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
if (loadavg()[0] > 0.5) note('warning: the machine is busy (load > 0.5); figures will be noisy, rerun when it is quieter');

// A project like a user's, inside the repository so that @baton/core resolves to the
// built package: an empty workspace, and one job of a function task per module kind.
const scratch = await mkdtemp(join(ROOT, 'examples', '.bench-startup-'));
try {
  const emptyWorkspace = join(scratch, 'empty-workspace');
  await mkdir(emptyWorkspace);
  const jobs = {
    ts: await functionJob({ scratch, name: 'tasks.ts', from: '@baton/core/task' }),
    mjs: await functionJob({ scratch, name: 'tasks.mjs', from: '@baton/core/task' }),
    mjsWholeCore: await functionJob({ scratch, name: 'whole.mjs', from: '@baton/core' }),
  };

  const rows = measureInterleaved([
    { name: 'node -e 0', command: ['node', '-e', '0'] },
    { name: 'baton --version', command: ['node', BATON, '--version'], ratioTarget: 2 },
    { name: 'baton --help', command: ['node', BATON, '--help'] },
    { name: 'baton jobs list (empty workspace)', command: ['node', BATON, 'jobs', 'list', '--workdir', emptyWorkspace], targetMs: 250 },
    { name: "function task job process (tasks.ts, from '@baton/core/task')", command: ['node', RUNNER, jobs.ts], targetMs: 150 },
    { name: "function task job process (tasks.mjs, from '@baton/core/task')", command: ['node', RUNNER, jobs.mjs], targetMs: 150 },
    { name: "function task job process (tasks.mjs, from '@baton/core')", command: ['node', RUNNER, jobs.mjsWholeCore], targetMs: 150 },
  ]);
  const baseline = rows[0];

  const width = Math.max(...rows.map((row) => row.name.length));
  process.stdout.write(`${'row'.padEnd(width)}  ${'min'.padStart(8)}  ${'median'.padStart(8)}  ${'× node -e 0'.padStart(11)}  target\n`);
  for (const row of rows) {
    const ratio = row.median / baseline.median;
    const target =
      row.ratioTarget !== undefined
        ? `≤ ${row.ratioTarget}× ${ratio <= row.ratioTarget ? 'met' : 'MISSED'}`
        : row.targetMs !== undefined
          ? `≤ ${format(row.targetMs)} ${row.median <= row.targetMs ? 'met' : 'MISSED'}`
          : '';
    process.stdout.write(`${row.name.padEnd(width)}  ${format(row.min).padStart(8)}  ${format(row.median).padStart(8)}  ${ratio.toFixed(2).padStart(11)}  ${target}\n`);
  }
  note(`(${repeats} rounds, each row once per round; load at the end ${loadavg().map((v) => v.toFixed(2)).join(' ')})`);
} finally {
  if (!args.keep) await rm(scratch, { recursive: true, force: true });
  else note(`kept ${scratch}`);
}

/**
 * Wall times of `repeats` rounds; each round runs every row once, in order, so that a
 * burst of load on the machine touches all rows alike (one warm-up round first).
 */
function measureInterleaved(rows) {
  const times = rows.map(() => []);
  for (let round = -1; round < repeats; round++) {
    rows.forEach((row, index) => {
      const ms = run(row.command);
      if (round >= 0) times[index].push(ms);
    });
  }
  return rows.map((row, index) => ({ ...row, min: Math.min(...times[index]), median: median(times[index]) }));
}

function run([file, ...rest]) {
  const start = process.hrtime.bigint();
  const result = spawnSync(file === 'node' ? process.execPath : file, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${[file, ...rest].join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

/**
 * The directory of one job of a trivial function task defined in `name` (importing
 * defineTask `from` a subpath of @baton/core), written by `baton run-experiment
 * --run-mode generate` (job files, nothing run).
 */
async function functionJob({ scratch, name, from }) {
  const dir = join(scratch, name.replace('.', '-'));
  await mkdir(dir);
  const typescript = name.endsWith('.ts');
  await writeFile(
    join(dir, name),
    [
      "import { z } from 'zod';",
      `import { defineTask } from '${from}';`,
      `export const noop = defineTask({ id: 'noop', params: z.object({ i: z.number() }), run: (${typescript ? 'p: { i: number }' : 'p'}) => void p });`,
      '',
    ].join('\n'),
  );
  const experiment = typescript ? 'experiment.ts' : `experiment-${name.replace('.', '-')}.mjs`;
  await writeFile(
    join(dir, experiment),
    [
      "import { defineExperiment } from '@baton/core';",
      `import { noop } from './${name}';`,
      'export default defineExperiment({ run({ xp }) { xp.submit(noop, { i: 1 }); } });',
      '',
    ].join('\n'),
  );
  const workspace = join(dir, 'workspace');
  run(['node', BATON, 'run-experiment', '--run-mode', 'generate', '--workdir', workspace, '--file', join(dir, experiment), '-c', 'id=startup']);
  const [hash] = await readdir(join(workspace, 'jobs', 'noop'));
  return join(workspace, 'jobs', 'noop', hash);
}
