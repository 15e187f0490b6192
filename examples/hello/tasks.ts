// The tasks of the hello experiment. They live in their own module because a
// function task runs in the job's own process, which imports this file to find
// it: importing it must define tasks and nothing else (no experiment).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineTask } from '@baton/core/task';
import { z } from 'zod';

/** A command task: its job runs a program, here `sh` writing one line to greeting.txt. */
export const greet = defineTask({
  id: 'greet',
  params: z.object({
    name: z.string().min(1),
    // A parameter equal to its default stays out of the job's identity: adding
    // `greeting` with a default later would have kept the existing greet jobs.
    greeting: z.string().default('Hello'),
  }),
  // Each argv element reaches the program as is: the name is a positional
  // argument of the script, never pasted into the shell text.
  command: ({ name, greeting }) => ['sh', '-c', 'printf "%s, %s!\\n" "$1" "$2" > greeting.txt', 'greet', greeting, name],
});

/** A function task: `run` is called in the job's own process (the experiment may be gone by then). */
export const countWords = defineTask({
  id: 'count-words',
  params: z.object({
    /** A greeting file: submit it as `greetJob.path('greeting.txt')`, which makes this job wait for that one. */
    greeting: z.string(),
  }),
  run: async ({ greeting }, { directory }) => {
    const text = await readFile(greeting, 'utf8');
    const words = text.split(/\s+/).filter((word) => word !== '').length;
    await writeFile(join(directory, 'count.json'), `${JSON.stringify({ file: greeting, words })}\n`);
    // Lands in the job's stdout file: `baton jobs log count-words/<hash>` shows it.
    console.log(`${words} words in ${greeting}`);
  },
});
