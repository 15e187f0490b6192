// What a task's folder (`jobs/<task>`) held when admission listed it: the jobs of that
// task that had a directory then. A fresh experiment's jobs have none, and each would
// cost two looks before its claim (its `done` marker, then its directory): two
// file-system calls per job, two round trips over SSH. Once one job of a task is found
// without a directory, the folder is listed once, and the task's jobs that are not in
// the listing skip both looks.
//
// A listing can be out of date by the time a job is admitted: another process may
// have made the job's directory since (and run it). Taking such a job for fresh is
// safe: its claim makes the directory exclusively (freshClaims.ts), meets EEXIST, and
// takes the claim lock, under which the job's markers are looked at as for any job.
import type { Connector } from '../types.ts';

export class TaskListings {
  readonly #connector: Pick<Connector, 'readdir'>;
  /** Job hashes listed in each task folder; undefined while the listing is read, or when it could not be. */
  readonly #listings = new Map<string, Set<string> | undefined>();

  constructor(connector: Pick<Connector, 'readdir'>) {
    this.#connector = connector;
  }

  /**
   * True when the job's directory was not in its task folder's listing (a fresh job);
   * undefined when the folder has not been listed (yet), or the job was in it.
   */
  isFresh(directory: string): true | undefined {
    const slash = directory.lastIndexOf('/');
    const listed = this.#listings.get(directory.slice(0, slash));
    return listed !== undefined && !listed.has(directory.slice(slash + 1)) ? true : undefined;
  }

  /**
   * A job of this task had no directory: lists its folder for the task's next jobs,
   * once. A folder that cannot be listed is not listed again: those jobs get their looks.
   */
  async sawFresh(directory: string): Promise<void> {
    const folder = directory.slice(0, directory.lastIndexOf('/'));
    if (this.#listings.has(folder)) return;
    this.#listings.set(folder, undefined);
    const names = await this.#connector.readdir(folder).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : undefined));
    if (names) this.#listings.set(folder, new Set(names));
  }
}
