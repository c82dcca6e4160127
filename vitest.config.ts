import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's summary, then one plain `tests: N passed, N failed, N skipped` line that CI log readers know.
    reporters: ['default', './tests/support/plain-summary-reporter.ts'],
  },
});
