// How a cluster launcher hands over a batch: jobs whose scheduler options are equal
// go together, as arrays of at most `arraySize()` jobs (one job alone goes as a plain
// job); a job whose options cannot be built is rejected on its own.
import type { LaunchRequest, SubmitOutcome } from '../types.ts';

export interface SubmitInGroupsOptions {
  requests: readonly LaunchRequest[];
  /** The scheduler options of a job, as argv items; throws (with a message for the user) to reject that job alone. */
  optionsOf: (request: LaunchRequest) => string[];
  /** Largest array to submit; asked only when some group has several jobs. */
  arraySize: () => number | Promise<number>;
  submitOne: (request: LaunchRequest, options: readonly string[]) => Promise<SubmitOutcome>;
  /** Several jobs with equal options as one array: one outcome per request, in order. */
  submitArray: (requests: readonly LaunchRequest[], options: readonly string[]) => Promise<SubmitOutcome[]>;
}

/** One outcome per request, in order. */
export async function submitInGroups(options: SubmitInGroupsOptions): Promise<SubmitOutcome[]> {
  const { requests } = options;
  const outcomes: SubmitOutcome[] = new Array(requests.length);
  const groups = new Map<string, { options: string[]; indexes: number[] }>();
  requests.forEach((request, index) => {
    let jobOptions: string[];
    try {
      jobOptions = options.optionsOf(request);
    } catch (error) {
      outcomes[index] = { failure: { code: null, reason: 'rejected', message: (error as Error).message } };
      return;
    }
    const key = JSON.stringify(jobOptions);
    const group = groups.get(key) ?? { options: jobOptions, indexes: [] };
    group.indexes.push(index);
    groups.set(key, group);
  });
  await Promise.all(
    [...groups.values()].map(async ({ options: groupOptions, indexes }) => {
      const chunkSize = indexes.length > 1 ? Math.max(1, await options.arraySize()) : 1;
      const work: Promise<void>[] = [];
      for (let start = 0; start < indexes.length; start += chunkSize) {
        const chunk = indexes.slice(start, start + chunkSize);
        const batch = chunk.map((index) => requests[index]!);
        const submitted = batch.length === 1 ? options.submitOne(batch[0]!, groupOptions).then((outcome) => [outcome]) : options.submitArray(batch, groupOptions);
        work.push(submitted.then((results) => chunk.forEach((index, i) => (outcomes[index] = results[i]!))));
      }
      await Promise.all(work);
    }),
  );
  return outcomes;
}
