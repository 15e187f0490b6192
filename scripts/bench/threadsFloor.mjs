// Benchmark peer of the threads launcher's row: the same N trivial function tasks and
// the same per-job files, with Node, zod and tinypool alone, no Baton. It shows what
// the platform costs for this work (a process start, zod loaded in the main thread and
// in each worker thread, the threads' start, the files), so that the threads row's
// excess over it is what Baton adds (settings, workspace, identity, scheduling).
//   main thread, per job: its directory, params.json, process.json (created), a line of
//     jobs.jsonl (one append per hand-over); jobs handed to one thread 64 at a time
//     (one thread, as the threads launcher uses for tasks this short: on 2 cores a
//     second one only takes CPU from the main thread; ~6 % slower with two here);
//   worker thread, per job (threadsFloorWorker.mjs): reads params.json, decodes the
//     parameters with the task's zod schema, opens stdout and stderr for append, calls
//     the function, writes the done marker.
// Run: node scripts/bench/threadsFloor.mjs --count 1000 --workdir /tmp/floor
// Prints one JSON line of milliseconds on stdout, as functionDriver.mjs does.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuTimes } from './figures.mjs';

const startupMs = performance.now();
const { values } = parseArgs({ options: { count: { type: 'string' }, workdir: { type: 'string' } } });
const count = Number(values.count);
if (!Number.isInteger(count) || count <= 0 || !values.workdir) {
  process.stderr.write('usage: node scripts/bench/threadsFloor.mjs --count N --workdir DIR\n');
  process.exit(2);
}

const importStart = performance.now();
// The task's zod, as the experiment loads it with the task module; tinypool from the plugin that uses it.
await import('zod');
const fromPlugin = createRequire(new URL('../../plugins/launcher-local/package.json', import.meta.url));
const { default: Tinypool } = await import(pathToFileURL(fromPlugin.resolve('tinypool')).href);
const importMs = performance.now() - importStart;

const runStart = performance.now();
const root = values.workdir;
mkdirSync(join(root, 'jobs'), { recursive: true });
const pool = new Tinypool({ filename: new URL('./threadsFloorWorker.mjs', import.meta.url).href, maxThreads: 1, minThreads: 0 });
const BATCH = 64;
let firstDoneMs;
const ends = [];
let batch = [];
let lines = [];
const handOver = () => {
  appendFileSync(join(root, 'jobs.jsonl'), lines.join(''));
  ends.push(pool.run(batch).then(() => (firstDoneMs ??= performance.now() - runStart)));
  batch = [];
  lines = [];
};
for (let i = 1; i <= count; i++) {
  const directory = join(root, 'jobs', i.toString(16).padStart(8, '0'));
  mkdirSync(directory);
  writeFileSync(join(directory, 'params.json'), `${JSON.stringify({ taskId: 'noop', params: { i }, resolved: { i } }, null, 2)}\n`, { flag: 'wx' });
  writeFileSync(join(directory, 'process.json'), `${JSON.stringify({ launcher: 'threads', pid: process.pid, directory }, null, 2)}\n`, { flag: 'wx' });
  lines.push(`${JSON.stringify({ taskId: 'noop', directory })}\n`);
  batch.push(directory);
  if (batch.length === BATCH) handOver();
}
if (batch.length > 0) handOver();
const done = (await Promise.all(ends)).length > 0 ? count : 0;
const inProcessMs = performance.now() - runStart;
await pool.destroy();
const cpu = cpuTimes();
process.stdout.write(`${JSON.stringify({ startupMs, importMs, inProcessMs, firstDoneMs, cpuMs: cpu.all, cpuMainMs: cpu.main, done })}\n`);
