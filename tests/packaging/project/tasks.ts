// A user's task module, as in the README: one command task and one function task.
// Every run of a job appends a line to `runLog` (outside the workspace), so the test
// sees what actually ran, and how often.
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineTask } from '@baton/core';
import { z } from 'zod';

/** A command task: `sh` writes the word to word.txt in the job's directory. */
export const shout = defineTask({
  id: 'shout',
  params: z.object({ word: z.string().min(1), runLog: z.string() }),
  requirements: 'cpu(cores=1)',
  command: ({ word, runLog }) => ['sh', '-c', 'printf "%s\\n" "$1" > word.txt && printf "shout %s\\n" "$1" >> "$2"', 'shout', word, runLog],
});

/** A function task: runs in the job's own process, reads the word a shout job wrote. */
export const measure = defineTask({
  id: 'measure',
  params: z.object({ file: z.string(), runLog: z.string(), unit: z.enum(['chars', 'bytes']).default('chars') }),
  run: async ({ file, runLog, unit }, { directory }) => {
    const word = (await readFile(file, 'utf8')).trim();
    const length = unit === 'chars' ? [...word].length : Buffer.byteLength(word);
    await writeFile(join(directory, 'length.json'), `${JSON.stringify({ word, length })}\n`);
    await appendFile(runLog, `measure ${word}\n`);
  },
});
