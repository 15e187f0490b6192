#!/usr/bin/env node
// The `baton` command. It runs the built JavaScript of dist/; TypeScript files of the
// user's (experiments, tasks, settings, plugins) are loaded through tsx when met.
import module from 'node:module';

// Node 22 and later keep the code V8 compiles for every module between runs (its compile
// cache, in the temporary folder, or in $BATON_CODE_CACHE); BATON_CODE_CACHE=off turns it
// off. Node 20 has no such cache: there @baton/core caches its vendored files itself (its
// util/codeCache.ts). Turned on before anything else is imported.
const codeCache = process.env.BATON_CODE_CACHE;
if (!/^(off|0|false|no)$/i.test(codeCache ?? '')) module.enableCompileCache?.(codeCache || undefined);

await import('../dist/main.js');
