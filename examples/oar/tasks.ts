// The tasks of the OAR example. They live in their own module because a
// function task runs in the job's own process, on a cluster node, which imports
// this file to find it: importing it must define tasks and nothing else.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineTask } from '@baton/core/task';
import { z } from 'zod';

/**
 * A command task: one Monte Carlo estimate of pi with awk, written to
 * estimate.txt. Each argv element reaches `sh` as is: the numbers are
 * positional arguments ($1, $2), never pasted into the script text.
 */
export const simulate = defineTask({
  id: 'simulate',
  params: z.object({
    seed: z.number().int(),
    samples: z.number().int().positive().default(200_000),
  }),
  command: ({ seed, samples }) => [
    'sh',
    '-c',
    `awk -v seed="$1" -v n="$2" 'BEGIN { srand(seed); for (i = 0; i < n; i++) { x = rand(); y = rand(); if (x * x + y * y <= 1) hits++ } printf "%.6f\\n", 4 * hits / n }' > estimate.txt
echo "seed $1: $(cat estimate.txt) (OAR job $OAR_JOB_ID on $(hostname))"`,
    'simulate',
    String(seed),
    String(samples),
  ],
});

/** A command task that depends on every simulate job: their estimate files are its parameters. */
export const combine = defineTask({
  id: 'combine',
  params: z.object({ estimates: z.array(z.string()).min(1) }),
  command: ({ estimates }) => [
    'sh',
    '-c',
    `cat "$@" | awk '{ sum += $1; n++ } END { printf "%.6f\\n", sum / n }' > pi.txt
echo "mean of $# estimates: $(cat pi.txt)"`,
    'combine',
    ...estimates,
  ],
});

/**
 * A resumable function task: refines the combined estimate step by step and
 * keeps its progress in checkpoint.json. The job is submitted with
 * `oarsub --checkpoint=30 --signal=12`: OAR sends SIGUSR2 `signalAhead` before
 * the job's walltime to its first process, `job.sh`, which passes it on to this
 * process, which saves its state and returns. Baton records a timeout and submits the job
 * again (up to `retries` times); the next attempt starts from the checkpoint.
 */
export const refine = defineTask({
  id: 'refine',
  params: z.object({
    /** combine's pi.txt: submit it as `combineJob.path('pi.txt')`, which makes this job wait for combine. */
    pi: z.string(),
    steps: z.number().int().positive().default(20),
    /** How long each step takes, so that a step is long enough to be interrupted. */
    stepSeconds: z.number().nonnegative().default(0.25),
  }),
  resumable: { retries: 5, signalAhead: '30s' },
  run: async ({ pi, steps, stepSeconds }, { directory }) => {
    let stopRequested = false;
    // With a listener installed, SIGUSR2 no longer kills Node: the loop sees the flag at the end of its step.
    process.once('SIGUSR2', () => (stopRequested = true));

    const checkpointPath = join(directory, 'checkpoint.json');
    const start = Number(await readFile(pi, 'utf8'));
    const state: Checkpoint = await readJson<Checkpoint>(checkpointPath).then(
      (saved) => {
        console.log(`resuming at step ${saved.step}/${steps} in OAR job ${process.env.OAR_JOB_ID}`);
        return saved;
      },
      () => {
        console.log(`starting from pi ≈ ${start} in OAR job ${process.env.OAR_JOB_ID}`);
        return { step: 0, hits: 0, total: 0 };
      },
    );

    while (state.step < steps) {
      if (stopRequested) {
        await writeJsonAtomically(checkpointPath, state);
        console.log(`SIGUSR2: checkpointed at step ${state.step}/${steps}; Baton will submit this job again`);
        return;
      }
      for (let i = 0; i < 100_000; i++) {
        const x = Math.random();
        const y = Math.random();
        if (x * x + y * y <= 1) state.hits++;
      }
      state.total += 100_000;
      state.step++;
      await new Promise((resolve) => setTimeout(resolve, stepSeconds * 1000));
    }
    // Weigh the combined estimate like one more step's worth of samples.
    const refined = (4 * state.hits + start * 100_000) / (state.total + 100_000);
    await writeJsonAtomically(join(directory, 'result.json'), { pi: refined, samples: state.total + 100_000 });
    console.log(`refined: pi ≈ ${refined.toFixed(6)} after ${state.step} steps`);
  },
});

interface Checkpoint {
  step: number;
  hits: number;
  total: number;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** Written then renamed: a job killed mid-write never leaves half a checkpoint. */
async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, `${JSON.stringify(value)}\n`);
  await rename(`${path}.tmp`, path);
}
