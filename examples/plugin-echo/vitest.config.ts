// The plugin's own test run (`npm test`): its tests beside its sources. In this
// repository the root's Vitest projects run them too (`--project unit`).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
