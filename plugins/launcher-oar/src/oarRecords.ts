// Reads what the OAR commands print: the job ids of an oarsub, and the JSON of
// `oarstat -f -J` (an object by job id; nothing at all when no job matches).
import type { OarEvent, OarRecord } from './oarStates.ts';

/** The ids of `OAR_JOB_ID=N` lines, in order (an array prints one per task). */
export function parseJobIds(stdout: string): string[] {
  return [...stdout.matchAll(/^OAR_JOB_ID=(\d+)\s*$/gm)].map((match) => match[1]!);
}

/** oarstat's JSON by job id; throws with the start of the text when it is not JSON. */
export function parseOarstat(stdout: string): Map<string, OarRecord> {
  const records = new Map<string, OarRecord>();
  const text = stdout.trim();
  // No job matched: oarstat prints nothing, not `{}`.
  if (text === '') return records;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`oarstat did not print JSON (${(error as Error).message}): ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (!isObject(parsed)) throw new Error(`oarstat printed JSON that is not an object of jobs: ${JSON.stringify(text.slice(0, 200))}`);
  for (const [key, value] of Object.entries(parsed)) {
    if (!isObject(value)) continue;
    const id = String(value.Job_Id ?? value.id ?? key);
    const state = typeof value.state === 'string' ? value.state : undefined;
    if (!state) continue;
    const record: OarRecord = {
      jobId: id,
      state,
      exitCode: typeof value.exit_code === 'number' ? value.exit_code : null,
      events: Array.isArray(value.events) ? value.events.filter(isObject).map(toEvent) : [],
    };
    if (typeof value.message === 'string') record.message = value.message;
    if (typeof value.walltime === 'number') record.walltime = value.walltime;
    if (typeof value.scheduledStart === 'number') record.scheduledStart = value.scheduledStart;
    if (typeof value.name === 'string') record.name = value.name;
    if (typeof value.startTime === 'number') record.startTime = value.startTime;
    if (typeof value.stopTime === 'number') record.stopTime = value.stopTime;
    if (Array.isArray(value.assigned_network_address)) record.hosts = value.assigned_network_address.filter((host): host is string => typeof host === 'string');
    records.set(id, record);
  }
  return records;
}

function toEvent(value: Record<string, unknown>): OarEvent {
  const event: OarEvent = { type: String(value.type ?? ''), description: String(value.description ?? '') };
  if (typeof value.date === 'number') event.date = value.date;
  return event;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
