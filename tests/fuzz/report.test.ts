import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPORT = join(import.meta.dirname, 'report.sh');
const report = (input: string) => execFileSync('bash', [REPORT], { input, encoding: 'utf8' });

/** A closing line as pytest draws it, which CI's log reader reads as pytest's result. */
const PYTEST_CLOSING = /^=+ .* in [0-9.]+s =+$/;

/** Schemathesis 4's output in a log: progress frames, then its report. */
const SCHEMATHESIS_OUTPUT = [
  'Schemathesis v4.1.0',
  ' 🕒  Examples  ✅  1 passed\u001b[2K\u001b[1A',
  ' 🕓  Examples  ✅ 13 passed  ⏭   7 skipped\u001b[2K\u001b[1A',
  '=================================== WARNINGS ===================================',
  '',
  'Missing test data: 2 operations repeatedly returned 404 Not Found',
  '=================================== SUMMARY ====================================',
  '',
  'Test cases:',
  '  4846 generated, 4846 passed, 135 skipped',
  '',
  '============================= 1 warning in 83.94s ==============================',
  '',
].join('\n');

describe('fuzz.sh in a log (tests/fuzz/report.sh)', () => {
  it("keeps Schemathesis' report without its progress frames, and no line of it reads as pytest's result", () => {
    const lines = report(SCHEMATHESIS_OUTPUT).split('\n');
    expect(lines).toEqual([
      '--- WARNINGS ---',
      '',
      'Missing test data: 2 operations repeatedly returned 404 Not Found',
      '--- SUMMARY ---',
      '',
      'Test cases:',
      '  4846 generated, 4846 passed, 135 skipped',
      '',
      'Schemathesis finished: 1 warning; took 83.94s',
      '',
    ]);
    expect(lines.filter((line) => PYTEST_CLOSING.test(line))).toEqual([]);
    expect(SCHEMATHESIS_OUTPUT.split('\n').filter((line) => PYTEST_CLOSING.test(line))).toHaveLength(1);
  });

  it('keeps all of the output when Schemathesis stopped before its report', () => {
    const output = 'Schemathesis v4.1.0\nError: could not reach http://127.0.0.1:8799\n';
    expect(report(output)).toBe(output);
  });

  it('redraws a closing line with failures too', () => {
    expect(report('====== FAILURES ======\nx\n====== 3 failures, 1 warning in 120.5s ======\n')).toBe(
      '--- FAILURES ---\nx\nSchemathesis finished: 3 failures, 1 warning; took 120.5s\n',
    );
  });
});
