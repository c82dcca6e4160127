import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends a vitest run with one plain line, `tests: N passed, N failed, N skipped`, after vitest's own summary.
 * CI log readers recognise that line in any language; vitest's `Tests  N passed (N)` is not one they read.
 * A test file that failed without a failed test (it did not load, or a hook failed and its tests were
 * skipped) and an error outside the tests count as failures, so the line never says `0 failed` of a run
 * that failed.
 */
export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const testModule of testModules) {
      let failedTests = 0;
      for (const test of testModule.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failedTests += 1;
        else skipped += 1;
      }
      failed += failedTests;
      // A file that failed with no failed test (it did not load, or a hook failed and its tests were
      // skipped) counts as one failure.
      if (failedTests === 0 && testModule.state() === 'failed') failed += 1;
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
