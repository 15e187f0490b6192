// Tasks the OAR integration tests submit: plain commands, so a job needs nothing
// but /bin/sh on the node.
import { defineTask } from '@baton/core';
import { z } from 'zod';

/** Prints a line naming its OAR job, then exits with the given code. */
export const exitWith = defineTask({
  id: 'exit-with',
  params: z.object({ code: z.number().int(), label: z.string().default('') }),
  command: (p) => ['sh', '-c', 'echo "exiting with $1 ($2) in OAR job $OAR_JOB_ID"; exit "$1"', 'sh', String(p.code), p.label],
});

/** Prints `started`, sleeps, prints `slept`. */
export const sleeper = defineTask({
  id: 'sleeper',
  params: z.object({ seconds: z.number(), label: z.string() }),
  // A cancel that kills the sleep before the shell ends the task too: it must not go on and exit 0.
  command: (p) => ['sh', '-c', 'echo started; sleep "$1" || exit; echo slept', 'sh', String(p.seconds), p.label],
});

/** Appends its label to the file it is given, after the input file's content. */
export const chain = defineTask({
  id: 'chain',
  params: z.object({ input: z.string().optional(), label: z.string() }),
  command: (p) => ['sh', '-c', '[ -z "$1" ] || cat "$1"; echo "$2"', 'sh', p.input ?? '', p.label],
});

/**
 * Waits for SIGUSR2 (sent ahead of its walltime), checkpoints and stops;
 * the next attempt finds the checkpoint and finishes.
 */
export const checkpointing = defineTask({
  id: 'checkpointing',
  params: z.object({ label: z.string() }),
  resumable: { retries: 3, signalAhead: 25 },
  command: (p) => [
    'sh',
    '-c',
    'trap \'echo "checkpointed in $OAR_JOB_ID"; : > checkpoint; exit 1\' USR2; if [ -e checkpoint ]; then echo "resumed in $OAR_JOB_ID"; exit 0; fi; echo "started $1 in $OAR_JOB_ID"; while :; do sleep 1; done',
    'sh',
    p.label,
  ],
});
