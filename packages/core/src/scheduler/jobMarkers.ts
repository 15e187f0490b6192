// Reading and writing a job's markers and process.json: the source of truth
// every process consults before it runs, re-attaches or skips a job.
import { jobFile } from '../job/jobFiles.ts';
import type { Connector, FailureInfo, LaunchHandle } from '../types.ts';

export type MarkerState = { state: 'done' } | { state: 'failed'; failure: FailureInfo } | { state: 'none' };

export async function readMarkers(connector: Connector, directory: string): Promise<MarkerState> {
  if (await connector.exists(jobFile(directory, 'done'))) return { state: 'done' };
  const failed = await connector.readFileIfExists(jobFile(directory, 'failed'));
  if (failed === undefined) return { state: 'none' };
  return { state: 'failed', failure: parseFailure(failed) };
}

export async function writeFailedMarker(connector: Connector, directory: string, failure: FailureInfo): Promise<void> {
  await connector.writeFile(jobFile(directory, 'failed'), `${JSON.stringify(failure)}\n`);
}

export async function readProcessFile(connector: Connector, directory: string): Promise<LaunchHandle | undefined> {
  const text = await connector.readFileIfExists(jobFile(directory, 'process'));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as LaunchHandle;
  } catch {
    return undefined; // half-written by a process that died: as good as absent
  }
}

export async function writeProcessFile(connector: Connector, handle: LaunchHandle): Promise<void> {
  await connector.writeFile(jobFile(handle.directory, 'process'), `${JSON.stringify(handle, null, 2)}\n`);
}

function parseFailure(text: string): FailureInfo {
  try {
    const value = JSON.parse(text) as Partial<FailureInfo>;
    return {
      code: typeof value.code === 'number' ? value.code : null,
      reason: value.reason ?? 'failed',
      message: value.message ?? '',
    };
  } catch {
    return { code: null, reason: 'failed', message: text.trim() || 'failed (empty marker)' };
  }
}
