// The Vitest configuration of faultyLaunchers.kit.ts (launcherConformance.test.ts runs it):
// the repository's packages from their sources, as the test projects read them.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const conditions = ['@baton/source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['faultyLaunchers.kit.ts'],
  },
});
