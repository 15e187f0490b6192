// What a task's folder (`jobs/<task>`) held when admission listed it: the jobs of that
// task that had a directory then. A fresh experiment's jobs have none, and each would
// cost two looks before its claim (its `done` marker, then its directory): two
// file-system calls per job, two round trips over SSH.
//
// The first job of a task admitted is the folder's probe: it gets both looks, while the
// task's other jobs wait. A probe without a directory (a fresh run) has the folder
// listed once, and the task's jobs that are not in the listing skip both looks. A probe
// that is done, or has a directory (a resumed run), leaves the folder unlisted: its jobs
// get their looks, as a resume needs them, with no listing of thousands of names to pay.
//
// A listing can be out of date by the time a job is admitted: another process may
// have made the job's directory since (and run it). Taking such a job for fresh is
// safe: its claim makes the directory exclusively (freshClaims.ts), meets EEXIST, and
// takes the claim lock, under which the job's markers are looked at as for any job.
import type { Connector } from '../types.ts';

/** What admission does with a job: skip its looks (fresh), look as usual, or probe its folder first. */
export type ListingVerdict = 'fresh' | 'look' | 'probe';

type FolderState = { probing: Promise<void>; probed: () => void } | { listed: Set<string> } | 'unlisted';

export class TaskListings {
  readonly #connector: Pick<Connector, 'readdir'>;
  readonly #folders = new Map<string, FolderState>();

  constructor(connector: Pick<Connector, 'readdir'>) {
    this.#connector = connector;
  }

  /**
   * The verdict for a job about to be looked at. The first job of its task folder is
   * the probe: its caller looks at it and says what it found (`probed`). A job whose
   * folder is being probed waits for the probe (a promise), then asks again.
   */
  verdict(directory: string): ListingVerdict | Promise<void> {
    const slash = directory.lastIndexOf('/');
    const folder = directory.slice(0, slash);
    const state = this.#folders.get(folder);
    if (state === undefined) {
      let probed!: () => void;
      const probing = new Promise<void>((resolve) => (probed = resolve));
      this.#folders.set(folder, { probing, probed });
      return 'probe';
    }
    if (state === 'unlisted') return 'look';
    if ('probing' in state) return state.probing;
    return state.listed.has(directory.slice(slash + 1)) ? 'look' : 'fresh';
  }

  /**
   * What the probe found: `hasDirectory` false lists the folder for the task's next jobs
   * (a folder that cannot be listed stays unlisted: those jobs get their looks);
   * undefined when the probe could not tell (a fault). Never throws.
   */
  async probed(directory: string, hasDirectory: boolean | undefined): Promise<void> {
    const folder = directory.slice(0, directory.lastIndexOf('/'));
    const state = this.#folders.get(folder);
    if (state === undefined || state === 'unlisted' || !('probing' in state)) return;
    let next: FolderState = 'unlisted';
    if (hasDirectory === false) {
      const names = await this.#connector.readdir(folder).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : undefined));
      if (names) next = { listed: new Set(names) };
    }
    this.#folders.set(folder, next);
    state.probed();
  }
}
