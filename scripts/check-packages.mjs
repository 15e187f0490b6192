#!/usr/bin/env node
// CI check of the packages as a user receives them: build, pack every publishable package
// with pnpm (workspace:^ becomes ^0.x), then publint and Are The Types Wrong on each tarball.
// Exits 1, naming every problem, if any tarball has one.
//   node scripts/check-packages.mjs [--keep]     (--keep: leave the tarballs and say where)
// The install-and-run check of the same tarballs is the `packaging` test project
// (tests/packaging/packaging.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO, buildPackages, lintTarball, packPackages, staleBuildOutputs } from '../tests/packaging/packages.mjs';

const keep = process.argv.includes('--keep');
const destination = await mkdtemp(join(tmpdir(), 'baton-check-packages-'));
let failed = false;
let unfinished = false;
try {
  console.log('== build (pnpm run build)');
  await buildPackages();

  console.log(`== pack (pnpm pack into ${destination})`);
  const packed = await packPackages({ destination });

  for (const pkg of packed) {
    const { problems, notes } = await lintTarball(pkg.tarball);
    const stale = staleBuildOutputs(pkg);
    if (stale.length > 0) {
      problems.push(`dist/ holds files no source in src/ produces (a renamed or removed module; delete ${relative(REPO, join(pkg.dir, 'dist'))} and build again): ${stale.join(', ')}`);
    }
    const where = `${pkg.name} (${relative(REPO, pkg.dir)}, ${pkg.files.length} files)`;
    if (problems.length === 0) {
      console.log(`ok   ${where}: publint, attw --profile esm-only and the dist/src match found nothing`);
    } else {
      failed = true;
      console.log(`FAIL ${where}:`);
      for (const problem of problems) console.log(`       ${problem.replaceAll('\n', '\n       ')}`);
    }
    for (const note of notes) console.log(`     note: ${note}`);
  }
} catch (error) {
  unfinished = true;
  console.error(error instanceof Error ? error.message : error);
} finally {
  if (keep) console.log(`tarballs kept in ${destination}`);
  else await rm(destination, { recursive: true, force: true });
}

if (unfinished) {
  console.error('\nThe packaging check could not finish (above: the step, the command and its output).');
  process.exit(1);
}
if (failed) {
  console.error('\nThe packages are not what a user should receive: fix the problems above (package.json exports/files, the build), then run `node scripts/check-packages.mjs` again.');
  process.exit(1);
}
console.log('\nEvery package packs clean.');
