// Dependencies that only some paths need (the YAML parser, the settings file search) are
// required on first use, so that importing @baton/core stays quick: every
// function task's job process imports it through the user's task module. These packages
// are CommonJS, so a synchronous require serves callers that are not async. node:module
// itself is taken on first use too: a worker thread that never needs one of these
// packages does not compile it (Node's startup snapshot has it for the main thread only).

let require: NodeJS.Require | undefined;

/** A getter that requires `name` the first time it is called. */
export function lazyModule<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => {
    require ??= process.getBuiltinModule('node:module').createRequire(import.meta.url);
    return (loaded ??= require(name) as T);
  };
}
