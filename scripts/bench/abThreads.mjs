// Interleaved, paired comparison of the `threads` row between two built trees of this
// repository: another checkout (`--base`, e.g. a worktree at an older commit, built)
// and this one. On a noisy VM two runs minutes apart differ by more than most changes;
// so each round runs every variant once, back to back, and the figure that compares
// is the median of the per-round differences (this tree minus the base).
// `--peer` adds the row's peer (threadsFloor.mjs, no Baton) as a third variant.
// Run: TMPDIR=/dev/shm node scripts/bench/abThreads.mjs --base /tmp/baton-base --rounds 12 [--count 1000] [--peer]
// (the workspaces go under $TMPDIR: in memory, as for the figures in docs/benchmarks.md).
// A base tree: git worktree add /tmp/baton-base <commit> && (cd /tmp/baton-base && pnpm install && pnpm run build).
// Each run: functionDriver.mjs in its tree, whole process timed from here; its own
// figures give the CPU of all threads and of the main thread.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './figures.mjs';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '10' },
    count: { type: 'string', default: '1000' },
    peer: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const count = Number(values.count);
if (!values.base || !Number.isInteger(rounds) || rounds <= 0 || !Number.isInteger(count) || count <= 0) {
  process.stderr.write('usage: node scripts/bench/abThreads.mjs --base DIR --rounds N [--count N] [--peer]\n  DIR: another built checkout of this repository\n');
  process.exit(2);
}

const here = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const variants = [
  { name: 'base', root: resolve(values.base), script: 'scripts/bench/functionDriver.mjs', args: ['--launcher', 'threads'] },
  { name: 'this tree', root: here, script: 'scripts/bench/functionDriver.mjs', args: ['--launcher', 'threads'] },
  ...(values.peer ? [{ name: 'peer (no Baton)', root: here, script: 'scripts/bench/threadsFloor.mjs', args: [] }] : []),
];
const scratch = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'baton-ab-'));
const runs = new Map(variants.map((variant) => [variant.name, []]));

try {
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      const workdir = join(scratch, `w${round}-${variants.indexOf(variant)}`);
      const start = performance.now();
      const child = spawnSync(process.execPath, [variant.script, '--count', String(count), '--workdir', workdir, ...variant.args], { cwd: variant.root, encoding: 'utf8' });
      const wallMs = performance.now() - start;
      if (child.status !== 0) throw new Error(`${variant.name} failed (exit ${child.status}): ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      const figures = JSON.parse(child.stdout.trim().split('\n').at(-1));
      if (figures.done !== count) throw new Error(`${variant.name}: ${figures.done} of ${count} jobs done`);
      runs.get(variant.name).push({ wallMs, cpuMs: figures.cpuMs, cpuMainMs: figures.cpuMainMs });
      rmSync(workdir, { recursive: true, force: true });
      process.stderr.write(`round ${round}, ${variant.name}: ${Math.round(wallMs)} ms\n`);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const base = runs.get('base');
const rows = variants.map(({ name }) => {
  const own = runs.get(name);
  const column = (key) => Math.round(median(own.map((run) => run[key])));
  const paired = (key) => Math.round(median(own.map((run, i) => run[key] - base[i][key])));
  return { name, wallMs: column('wallMs'), wallVsBase: paired('wallMs'), cpuMs: column('cpuMs'), cpuVsBase: paired('cpuMs'), cpuMainMs: column('cpuMainMs'), cpuMainVsBase: paired('cpuMainMs') };
});
process.stdout.write(`${count} trivial function tasks on threads, ${rounds} interleaved rounds (medians; "vs base": median of the per-round differences)\n`);
process.stdout.write('| variant | wall | vs base | CPU, all threads | vs base | CPU, main thread | vs base |\n|---|---:|---:|---:|---:|---:|---:|\n');
for (const row of rows) {
  process.stdout.write(`| ${row.name} | ${row.wallMs} ms | ${row.wallVsBase} | ${row.cpuMs} ms | ${row.cpuVsBase} | ${row.cpuMainMs} ms | ${row.cpuMainVsBase} |\n`);
}
