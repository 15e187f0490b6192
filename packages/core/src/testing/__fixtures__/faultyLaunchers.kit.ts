// Run by launcherConformance.test.ts in a Vitest of its own: the kit against the
// fixture launcher, right and with each fault. A fault that leaves a job running gets
// a short timeout (its test fails within seconds); the others a long one, so that a
// busy machine does not fail their other tests.
import { launcherConformance } from '../index.ts';
import { kitPlugin, type KitFault } from './kitLaunchers.ts';

const faults: KitFault[] = ['none', 'reversed', 'runningWhenUnknown', 'noCancel', 'forgetful', 'looseSettings'];
const waitsOut: KitFault[] = ['runningWhenUnknown', 'noCancel'];

for (const fault of faults) {
  launcherConformance({ name: fault, plugin: kitPlugin(fault), kind: 'kit', settings: { tag: 'conformance' }, timeoutMs: waitsOut.includes(fault) ? 4000 : 30_000 });
}
