// Command tasks for the remote-host tests: they need nothing but /bin/sh on the host.
import { defineTask } from '@baton/core';
import { z } from 'zod';

/** Prints `started`, sleeps, prints `slept`: run twice, its stdout says so. */
export const napper = defineTask({
  id: 'remote-nap',
  params: z.object({ seconds: z.number(), label: z.string() }),
  command: (p) => ['sh', '-c', 'echo started; sleep "$1"; echo slept', 'sh', String(p.seconds), p.label],
});

/** Prints its word, the user and the folder it runs in, then exits with `code`. */
export const echo = defineTask({
  id: 'remote-echo',
  params: z.object({ word: z.string(), code: z.number().int().default(0) }),
  command: (p) => ['/bin/sh', '-c', 'printf "%s|%s|%s\\n" "$1" "$(id -un)" "$(pwd)"; exit "$2"', 'sh', p.word, String(p.code)],
});
