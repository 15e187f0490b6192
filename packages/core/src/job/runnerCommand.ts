// The argv job.sh uses to run a function task: Node on the runner, with tsx so
// that TypeScript task modules load on Node 20.
import { fileURLToPath } from 'node:url';

const runnerPath = fileURLToPath(new URL('./runner.ts', import.meta.url));
const tsxLoader = import.meta.resolve('tsx/esm');

export function runnerCommand(directory: string): string[] {
  return [process.execPath, '--import', tsxLoader, runnerPath, directory];
}
