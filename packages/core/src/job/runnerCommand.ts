// The argv job.sh uses to run a function task: Node on the built runner (runner.js).
// Inside the monorepo, when core itself runs from its TypeScript sources (tests), the
// job still runs the built runner of dist/ (`pnpm test` builds first).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/**
 * The runner as the package exports it (`@baton/core/runner`), found by name rather than next
 * to this module: once bundled, this code lives in a chunk of dist/, not in dist/job/.
 */
function builtRunnerPath(): string {
  const resolved = fileURLToPath(import.meta.resolve('@baton/core/runner'));
  // From the sources (the monorepo's tests resolve through the source condition): …/src/job/runner.ts → …/dist/job/runner.js
  return resolved.endsWith('.ts') ? join(dirname(dirname(dirname(resolved))), 'dist', 'job', 'runner.js') : resolved;
}
