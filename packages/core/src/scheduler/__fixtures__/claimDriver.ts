// An experiment process that claims one fresh job and stops in its launcher's
// submit, between the claim and process.json: the claim race tests kill it there,
// or let it go on once a gate file exists.
// argv[2]: JSON { workspace, gate }. Prints `submitting` when submit is called, `done N` at the end.
import { existsSync } from 'node:fs';
import { LocalConnector } from '../../connector/localConnector.ts';
import { experiment } from '../../experiment/experiment.ts';
import type { LaunchRequest, SubmitOutcome } from '../../types.ts';
import { claimed } from './claimTask.ts';
import { InProcessLauncher, workspaceWith } from './inProcessLauncher.ts';

/** Submits only once the gate file exists. */
class GatedLauncher extends InProcessLauncher {
  constructor(readonly gate: string) {
    super();
  }

  override async submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    process.stdout.write('submitting\n');
    while (!existsSync(this.gate)) await new Promise((resolve) => setTimeout(resolve, 20));
    return super.submit(requests);
  }
}

const options = JSON.parse(process.argv[2]!) as { workspace: string; gate: string };
const xp = await experiment({ name: 'claim', openedWorkspace: workspaceWith(options.workspace, [new GatedLauncher(options.gate)], new LocalConnector()) });
xp.submit(claimed, { i: 1 });
const summary = await xp.wait();
await xp.close();
process.stdout.write(`done ${summary.counts.done}\n`);
