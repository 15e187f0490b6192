// Tasks the experiment tests submit. Function tasks must live in a module
// without side effects: the job runner imports it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineTask } from '../../task/defineTask.ts';

/** Appends `start <label> <ns>` and `end <label> <ns>` to a shared log, sleeping in between. */
export const append = defineTask({
  id: 'append',
  params: z.object({ log: z.string(), label: z.string(), sleep: z.number().default(0) }),
  command: (p) => ['sh', '-c', 'echo "start $2 $(date +%s%N)" >> "$1"; sleep "$3"; echo "end $2 $(date +%s%N)" >> "$1"', 'sh', p.log, p.label, String(p.sleep)],
});

export const print = defineTask({
  id: 'print',
  params: z.object({ text: z.string() }),
  command: (p) => ['printf', '%s', p.text],
});

export const fail = defineTask({
  id: 'fail',
  params: z.object({ code: z.number().int() }),
  command: (p) => ['sh', '-c', 'exit "$1"', 'sh', String(p.code)],
});

export const copy = defineTask({
  id: 'copy',
  params: z.object({ input: z.string() }),
  command: (p) => ['cat', p.input],
});

export const env = defineTask({
  id: 'env',
  params: z.object({ names: z.array(z.string()) }),
  env: { FROM_TASK: 'task', SHARED: 'task' },
  command: (p) => ['sh', '-c', 'for n in "$@"; do eval "printf \'%s=%s\\n\' \\"$n\\" \\"\\${$n}\\""; done', 'sh', ...p.names],
});

/** Fails until a flag file exists, creating it: the first run fails, the next succeeds. */
export const flaky = defineTask({
  id: 'flaky',
  params: z.object({ flag: z.string() }),
  command: (p) => ['sh', '-c', 'if [ -e "$1" ]; then echo ok; else : > "$1"; exit 1; fi', 'sh', p.flag],
});

/** A function task: runs in the job's own process. */
export const describeProcess = defineTask({
  id: 'describe-process',
  params: z.object({ x: z.number() }),
  run: async (p, context) => {
    await writeFile(join(context.directory, 'result.json'), JSON.stringify({ pid: process.pid, x: p.x, hash: context.hash }));
  },
});

/** A function task that throws: its job process fails, and says why. */
export const throwing = defineTask({
  id: 'throwing',
  params: z.object({ n: z.number() }),
  run: async (p) => {
    throw new Error(`bad n ${p.n}\nsecond line, for stderr only`);
  },
});

/** Checkpoints on SIGUSR2 (ahead of a time limit) and resumes from the checkpoint next time. */
export const checkpointing = defineTask({
  id: 'checkpointing',
  params: z.object({ name: z.string() }),
  resumable: { retries: 2 },
  command: () => [
    'sh',
    '-c',
    'if [ -e checkpoint ]; then echo resumed; exit 0; fi; trap \'echo checkpointed; : > checkpoint; exit 1\' USR2; echo started; while :; do sleep 0.05; done',
  ],
});
