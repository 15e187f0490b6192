/* eslint-disable no-console -- these tasks print, to show where their output lands */
// Tasks the threads launcher tests run. Function tasks live in a module without
// side effects: worker threads import it.
import { existsSync, writeFileSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { defineTask } from '@baton/core';
import { z } from 'zod';

/** Writes what it saw (parameters, thread, environment) and prints to every output it has. */
export const report = defineTask({
  id: 'report',
  params: z.object({ x: z.number(), when: z.date().default(new Date(0)) }),
  env: { FROM_TASK: 'task' },
  run: async (p, context) => {
    console.log(`hello ${p.x}`);
    console.error(`warning ${p.x}`);
    process.stdout.write('raw\n');
    context.logger.info('logged %d', p.x);
    await writeFile(
      join(context.directory, 'result.json'),
      JSON.stringify({ x: p.x, when: p.when.toISOString(), pid: process.pid, threadId, env: process.env.FROM_TASK, dir: process.env.BATON_JOB_DIR }),
    );
  },
});

export const failing = defineTask({
  id: 'failing',
  params: z.object({ why: z.string() }),
  run: (p) => {
    throw new Error(`bad input: ${p.why}\nsecond line`);
  },
});

/** Appends start/end lines to a log and sleeps in between (or until `release` exists). */
export const sleeper = defineTask({
  id: 'sleeper',
  params: z.object({ log: z.string(), label: z.string(), ms: z.number(), release: z.string().optional() }),
  run: async (p) => {
    await appendFile(p.log, `start ${p.label} ${Date.now()}\n`);
    const deadline = Date.now() + p.ms;
    while (Date.now() < deadline && !(p.release && existsSync(p.release))) await new Promise((resolve) => setTimeout(resolve, 10));
    await appendFile(p.log, `end ${p.label} ${Date.now()}\n`);
  },
});

/** Never returns on its own: a synchronous busy loop only thread termination ends. */
export const spinner = defineTask({
  id: 'spinner',
  params: z.object({ started: z.string() }),
  run: async (p) => {
    await writeFile(p.started, '');
    for (;;) {
      // spin
    }
  },
});

export const exits = defineTask({
  id: 'exits',
  params: z.object({ code: z.number() }),
  run: () => {
    process.exit(3);
  },
});

/**
 * Returns at once (no promise): a thread that has its module runs it synchronously.
 * Writes the variables it saw; throws or exits when asked.
 */
export const syncReport = defineTask({
  id: 'syncReport',
  params: z.object({ x: z.number(), then: z.enum(['return', 'throw', 'exit0', 'exit5']).default('return') }),
  run: (p, context) => {
    const seen = { x: p.x, dir: process.env.BATON_JOB_DIR, hash: process.env.BATON_JOB_HASH, only: process.env.ONLY_SOME ?? null, shared: process.env.SHARED ?? null };
    writeFileSync(join(context.directory, 'seen.json'), JSON.stringify(seen));
    console.log(`sync ${p.x}`);
    if (p.then === 'throw') throw new Error(`sync failure ${p.x}`);
    if (p.then === 'exit0') process.exit(0);
    if (p.then === 'exit5') process.exit(5);
  },
});

export const command = defineTask({
  id: 'command',
  params: z.object({ text: z.string() }),
  command: (p) => ['echo', p.text],
});
