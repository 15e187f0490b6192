// The one list of test projects. Vitest 4 no longer reads this file itself:
// vitest.config.ts imports it into `test.projects`.
import type { TestProjectInlineConfiguration } from 'vitest/config';

export const projects: TestProjectInlineConfiguration[] = [
  {
    test: {
      name: 'unit',
      include: ['packages/*/src/**/*.test.ts', 'plugins/*/src/**/*.test.ts', 'examples/**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/*.integration.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  },
];
