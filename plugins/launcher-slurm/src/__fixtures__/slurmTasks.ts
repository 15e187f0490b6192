// Tasks the SLURM integration tests submit: plain commands, so a job needs
// nothing but /bin/sh on the node.
import { defineTask } from '@baton/core';
import { z } from 'zod';

/** Prints a line, then exits with the given code. */
export const exitWith = defineTask({
  id: 'exit-with',
  params: z.object({ code: z.number().int(), label: z.string().default('') }),
  command: (p) => ['sh', '-c', 'echo "exiting with $1 ($2) in SLURM job $SLURM_JOB_ID"; exit "$1"', 'sh', String(p.code), p.label],
});

/** Prints `started`, sleeps, prints `slept`. */
export const sleeper = defineTask({
  id: 'sleeper',
  params: z.object({ seconds: z.number(), label: z.string() }),
  // A cancel that kills the sleep before the shell ends the task too: it must not go on and exit 0.
  command: (p) => ['sh', '-c', 'echo started; sleep "$1" || exit; echo slept', 'sh', String(p.seconds), p.label],
});

/** Prints `started`, sleeps, then exits with the given code. */
export const sleepThenExit = defineTask({
  id: 'sleep-then-exit',
  params: z.object({ seconds: z.number(), code: z.number().int(), label: z.string() }),
  command: (p) => ['sh', '-c', 'echo started; sleep "$1" || exit; exit "$2"', 'sh', String(p.seconds), String(p.code), p.label],
});

/** Appends its label to the file it is given, after the input file's content. */
export const chain = defineTask({
  id: 'chain',
  params: z.object({ input: z.string().optional(), label: z.string() }),
  command: (p) => ['sh', '-c', '[ -z "$1" ] || cat "$1"; echo "$2"', 'sh', p.input ?? '', p.label],
});

/**
 * Waits for SIGUSR2 (sent ahead of its time limit), checkpoints and stops;
 * the next attempt finds the checkpoint and finishes.
 */
export const checkpointing = defineTask({
  id: 'checkpointing',
  params: z.object({ label: z.string() }),
  resumable: { retries: 3, signalAhead: 20 },
  command: (p) => [
    'sh',
    '-c',
    // The trap comes first: the signal may come early (SLURM checks signal times about every 30-60 s).
    'trap \'echo "checkpointed in $SLURM_JOB_ID"; : > checkpoint; exit 1\' USR2; if [ -e checkpoint ]; then echo "resumed in $SLURM_JOB_ID"; exit 0; fi; echo "started $1 in $SLURM_JOB_ID"; while :; do sleep 1; done',
    'sh',
    p.label,
  ],
});
