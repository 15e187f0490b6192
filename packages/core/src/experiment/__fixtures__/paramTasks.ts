// Tasks of experiment.params.test.ts. Function tasks must live in a module
// without side effects: the job runner imports it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineTask } from '../../task/defineTask.ts';
import { option } from '../../task/identityParams.ts';

/** Writes what it received, with the type of each value, to received.json. */
export const receive = defineTask({
  id: 'receive',
  params: z.object({
    doubled: z.number().transform((n) => n * 2),
    when: z.date(),
    tags: z.set(z.string()),
    weights: z.map(z.string(), z.number()),
    seed: z.bigint(),
    workers: option(z.number().int().default(4)),
  }),
  run: async (p, { directory }) => {
    const described = {
      doubled: p.doubled,
      when: p.when instanceof Date ? p.when.toISOString() : `not a Date: ${String(p.when)}`,
      tags: p.tags instanceof Set ? [...p.tags] : `not a Set: ${String(p.tags)}`,
      weights: p.weights instanceof Map ? [...p.weights] : `not a Map: ${String(p.weights)}`,
      seed: typeof p.seed === 'bigint' ? `${p.seed}n` : `not a bigint: ${String(p.seed)}`,
      workers: p.workers,
    };
    await writeFile(join(directory, 'received.json'), JSON.stringify(described));
  },
});

/** A command task with an option: counts its runs in a log. */
export const counted = defineTask({
  id: 'counted',
  params: z.object({ log: z.string(), label: z.string(), workers: option(z.number().int().default(1)), logLevel: option(z.string().optional()) }),
  command: (p) => ['sh', '-c', 'echo "$2 workers=$3" >> "$1"', 'sh', p.log, p.label, String(p.workers)],
});

export const echo = defineTask({
  id: 'echo',
  params: z.object({ text: z.string() }),
  command: (p) => ['printf', '%s', p.text],
});

export const echoAgain = defineTask({
  id: 'echo',
  params: z.object({ text: z.string(), other: z.number().default(1) }),
  command: (p) => ['printf', '%s', p.text],
});

export const badEnvName = defineTask({
  id: 'bad-env-name',
  params: z.object({}),
  env: { 'NOT-A-NAME': 'x' },
  command: () => ['true'],
});

export const longId = defineTask({
  id: `long-${'x'.repeat(195)}`,
  params: z.object({ n: z.number() }),
  command: (p) => ['sh', '-c', 'echo "$1" > out.txt', 'sh', String(p.n)],
});
