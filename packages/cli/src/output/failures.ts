// How a job failure reads, and which failures are "the same" (one cause, e.g. a full disk, failing many jobs).
import type { FailureInfo } from '@baton/core';
import { withoutStackFrames } from './plainText.ts';

/** `failed (exit 3): message`, `timeout`, `dependency: ...`. */
export function describeFailure(failure: FailureInfo | undefined): string {
  if (!failure) return 'failed';
  const message = failure.message ? `: ${withoutStackFrames(failure.message)}` : '';
  return `${failure.reason}${failure.code === null ? '' : ` (exit ${failure.code})`}${message}`;
}

/** The failure with the job's own directory left out, so that jobs failing for one cause compare equal. */
export function failureKey(failure: FailureInfo | undefined, directory: string): string {
  return describeFailure(failure).replaceAll(directory, '<job>');
}
