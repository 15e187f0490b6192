// The same tasks in plain JavaScript: neither this process nor a job's loads tsx.
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineTask } from '@baton/core';
import { z } from 'zod';

export const shout = defineTask({
  id: 'shout-js',
  params: z.object({ word: z.string().min(1), runLog: z.string() }),
  command: ({ word, runLog }) => ['sh', '-c', 'printf "%s\\n" "$1" > word.txt && printf "shout-js %s\\n" "$1" >> "$2"', 'shout', word, runLog],
});

export const measure = defineTask({
  id: 'measure-js',
  params: z.object({ file: z.string(), runLog: z.string() }),
  run: async ({ file, runLog }, { directory }) => {
    const word = (await readFile(file, 'utf8')).trim();
    await writeFile(join(directory, 'length.json'), `${JSON.stringify({ word, length: [...word].length })}\n`);
    await appendFile(runLog, `measure-js ${word}\n`);
  },
});
