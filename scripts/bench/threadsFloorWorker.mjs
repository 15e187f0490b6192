// Worker thread of threadsFloor.mjs: runs a batch of trivial jobs with the same file
// work as the threads launcher's worker, without Baton.
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const params = z.object({ i: z.number().int() });
const run = () => undefined;
const host = hostname();

export default function runBatch(directories) {
  for (const directory of directories) {
    const start = Date.now();
    const record = JSON.parse(readFileSync(join(directory, 'params.json'), 'utf8'));
    const stdout = openSync(join(directory, 'stdout'), 'a');
    const stderr = openSync(join(directory, 'stderr'), 'a');
    run(params.parse(record.resolved));
    closeSync(stdout);
    closeSync(stderr);
    writeFileSync(join(directory, 'done'), `${JSON.stringify({ start, end: Date.now(), host })}\n`);
  }
  return directories.length;
}
