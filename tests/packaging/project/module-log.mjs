// Preloaded with NODE_OPTIONS=--import into every Node process of a run (the baton
// command and each job process inherit it): appends "<pid> <url>" to
// $BATON_PACKAGING_MODULE_LOG for every ES module the process loads, so the test can
// tell whether tsx was loaded, and in which process.
import { register } from 'node:module';

register('./module-log-hooks.mjs', import.meta.url, { data: { log: process.env.BATON_PACKAGING_MODULE_LOG } });
