#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): top functions by self
// time, and self time grouped by where the code lives (Node internals, a
// package, Baton's sources, GC, idle).
//   node scripts/bench/summarizeProfile.mjs PROFILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
if (positionals.length !== 1) {
  process.stderr.write('usage: node scripts/bench/summarizeProfile.mjs PROFILE.cpuprofile [--top N]\n');
  process.exit(2);
}

const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMs = new Map();
// timeDeltas[i] is the time before samples[i]; it is charged to that sample's node.
profile.samples.forEach((id, index) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000));

const byFunction = new Map();
const byPlace = new Map();
let totalMs = 0;
for (const [id, ms] of selfMs) {
  const { callFrame } = nodes.get(id);
  totalMs += ms;
  const name = `${callFrame.functionName || '(anonymous)'} ${shortUrl(callFrame.url)}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  const place = placeOf(callFrame);
  byPlace.set(place, (byPlace.get(place) ?? 0) + ms);
}

const top = Number(values.top);
const print = (title, map, limit) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    process.stdout.write(`${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / totalMs).toFixed(1).padStart(5)}%  ${name}\n`);
  }
};
process.stdout.write(`profile: ${(profile.endTime - profile.startTime) / 1000} ms wall, ${totalMs.toFixed(0)} ms sampled\n`);
print('self time by place', byPlace, 20);
print(`top ${top} functions by self time`, byFunction, top);

function placeOf(callFrame) {
  const { url, functionName } = callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const match = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return `package ${match[1]}`;
  const baton = /\/(packages|plugins|scripts)\/([^/]+)\//.exec(url);
  return baton ? `baton ${baton[1]}/${baton[2]}` : shortUrl(url);
}

function shortUrl(url) {
  return url.replace(/^file:\/\//, '').replace(/.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/\?.*$/, '');
}
