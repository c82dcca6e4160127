import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends a vitest run with one plain line, `tests: N passed, N failed, N skipped`, after vitest's own summary.
 * CI log readers recognise that line in any language; vitest's `Tests  N passed (N)` is not one they read.
 * A test file that failed to load or an error outside the tests counts as a failure, so the line never says
 * `0 failed` of a run that failed.
 */
export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const testModule of testModules) {
      let tests = 0;
      for (const test of testModule.children.allTests()) {
        tests += 1;
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
      if (tests === 0 && testModule.state() === 'failed') failed += 1;
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
