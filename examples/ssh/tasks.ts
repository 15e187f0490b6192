// The tasks of the SSH example. All three are *command* tasks: their jobs run
// `sh` on the remote host, as the remote user, in their job folder there. (A
// function task's job would need Node and this module on that host too.)
import { defineTask } from '@baton/core/task';
import { z } from 'zod';

/** Where the jobs run: the host's name, the user and the job's folder, as seen on the host. */
export const whereAmI = defineTask({
  id: 'where-am-i',
  params: z.object({}),
  command: () => ['sh', '-c', 'echo "$(uname -n) $(id -un) $(pwd)" | tee where.txt'],
});

/**
 * One Monte Carlo estimate of pi with awk, written to estimate.txt. Each argv
 * element reaches the remote `sh` as is (quoted for the remote shell by the
 * connector): the numbers are positional arguments ($1, $2), never pasted
 * into the script text.
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
echo "seed $1: $(cat estimate.txt) on $(uname -n)"`,
    'simulate',
    String(seed),
    String(samples),
  ],
});

/** Depends on every simulate job: their estimate files (paths on the host) are its parameters. */
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
