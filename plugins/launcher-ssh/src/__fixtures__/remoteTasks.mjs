// A function task for the remote-host tests, in plain JavaScript: its job runs on the
// host with the host's Node, which imports this module from the same path there.
import { appendFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { z } from 'zod';
import { defineTask } from '@baton/core/task';

/** Writes who ran it, where, with which Node and parameters, to `report` in its job directory. */
export const whoAmI = defineTask({
  id: 'who-am-i',
  params: z.object({ word: z.string() }),
  run: (params, context) => {
    appendFileSync(`${context.directory}/report`, `${JSON.stringify({ word: params.word, user: userInfo().username, host: hostname(), node: process.version })}\n`);
  },
});
