// The argv job.sh uses to run a function task: Node on the built runner (runner.js).
// Inside the monorepo, when core itself runs from its TypeScript sources (tests), the
// job still runs the built runner of dist/ (`pnpm test` builds first).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BatonError } from '../errors.ts';

const runnerPath = builtRunnerPath();
/** Looked for once per process, not once per job (job files are written on the submit path). */
let runnerFound = false;

export function runnerCommand(directory: string): string[] {
  runnerFound ||= existsSync(runnerPath);
  if (!runnerFound) {
    throw new BatonError(`The function task runner ${runnerPath} is missing`, {
      hint: 'build the packages first: `pnpm run build` at the root of the Baton repository',
    });
  }
  return [process.execPath, runnerPath, directory];
}

function builtRunnerPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return fileURLToPath(new URL('./runner.js', import.meta.url));
  // …/src/job/runnerCommand.ts → …/dist/job/runner.js
  return fileURLToPath(new URL('../../dist/job/runner.js', import.meta.url));
}
