// Dependencies that only some paths need (the YAML parser, the settings file search) are
// required on first use, so that importing @baton/core stays quick: every
// function task's job process imports it through the user's task module. These packages
// are CommonJS, so a synchronous require serves callers that are not async.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter that requires `name` the first time it is called. */
export function lazyModule<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
