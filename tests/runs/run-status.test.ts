import { describe, expect, it } from 'vitest';
import type { RunStatus, StepRunStatus } from '../../src/entities/index.ts';
import { applyRunStatus, currentAttempts, deriveRunStatus } from '../../src/services/run-status.ts';

/** The original's derivation (reference/original-rules.md), one row per rule and its edge cases. */
const TABLE: { rule: string; run: RunStatus; steps: StepRunStatus[]; expected: RunStatus }[] = [
  {
    rule: '1. a cancelled run stays cancelled, even when every step succeeded',
    run: 'cancelled',
    steps: ['success', 'success'],
    expected: 'cancelled',
  },
  {
    rule: '1. a cancelled run stays cancelled when a step fails',
    run: 'cancelled',
    steps: ['failed'],
    expected: 'cancelled',
  },
  {
    rule: '2. any failed → failed',
    run: 'running',
    steps: ['success', 'failed', 'pending'],
    expected: 'failed',
  },
  {
    rule: '2. failed wins over cancelled and running',
    run: 'running',
    steps: ['cancelled', 'running', 'failed'],
    expected: 'failed',
  },
  {
    rule: '3. else any cancelled → cancelled',
    run: 'running',
    steps: ['success', 'cancelled', 'running'],
    expected: 'cancelled',
  },
  {
    rule: '4. else any running → running',
    run: 'pending',
    steps: ['success', 'running', 'pending'],
    expected: 'running',
  },
  {
    rule: '5. all success → completed',
    run: 'running',
    steps: ['success', 'success', 'success'],
    expected: 'completed',
  },
  {
    rule: '5. success and optional → completed',
    run: 'running',
    steps: ['optional', 'success', 'optional'],
    expected: 'completed',
  },
  {
    rule: '5. not completed when every step is optional (no success)',
    run: 'running',
    steps: ['optional', 'optional'],
    expected: 'pending',
  },
  {
    rule: '6. else any pending → running (some steps done, some not)',
    run: 'pending',
    steps: ['success', 'pending', 'pending'],
    expected: 'running',
  },
  {
    rule: '6. optional and pending → running',
    run: 'pending',
    steps: ['optional', 'pending'],
    expected: 'running',
  },
  {
    rule: '6. every step pending → running (the original rule 6 applies before 7)',
    run: 'pending',
    steps: ['pending', 'pending'],
    expected: 'running',
  },
  {
    rule: '6. a completed run whose step goes back to pending → running',
    run: 'completed',
    steps: ['success', 'pending'],
    expected: 'running',
  },
  { rule: '7. no step runs → pending', run: 'running', steps: [], expected: 'pending' },
  {
    rule: '2. a failed run recovers when its failed step succeeds',
    run: 'failed',
    steps: ['success', 'success'],
    expected: 'completed',
  },
];

describe('deriveRunStatus', () => {
  for (const row of TABLE) {
    it(`${row.rule}: ${row.run} + [${row.steps.join(', ')}] → ${row.expected}`, () => {
      expect(deriveRunStatus(row.run, row.steps)).toBe(row.expected);
    });
  }
});

describe('applyRunStatus', () => {
  const now = new Date('2026-01-05T10:20:00.000Z');
  const earlier = new Date('2026-01-05T10:15:00.000Z');
  const run = (status: RunStatus, started_at: Date | null = null, finished_at: Date | null = null) => ({
    status,
    started_at,
    finished_at,
  });

  it('pending → running sets started_at', () => {
    const r = run('pending');
    expect(applyRunStatus(r, 'running', now)).toBe(true);
    expect(r).toEqual({ status: 'running', started_at: now, finished_at: null });
  });
  it('pending → running keeps a started_at already set', () => {
    const r = run('pending', earlier);
    applyRunStatus(r, 'running', now);
    expect(r.started_at).toBe(earlier);
  });
  for (const from of ['pending', 'running'] as const) {
    for (const to of ['completed', 'failed', 'cancelled'] as const) {
      it(`${from} → ${to} sets finished_at (when unset) and leaves started_at as it was`, () => {
        const r = run(from, from === 'running' ? earlier : null);
        applyRunStatus(r, to, now);
        expect(r).toEqual({ status: to, started_at: from === 'running' ? earlier : null, finished_at: now });
      });
    }
  }
  it('running → failed keeps a finished_at already set', () => {
    const r = run('running', earlier, earlier);
    applyRunStatus(r, 'failed', now);
    expect(r.finished_at).toBe(earlier);
  });
  for (const from of ['completed', 'failed', 'cancelled'] as const) {
    for (const to of ['pending', 'running'] as const) {
      it(`${from} → ${to} clears finished_at and keeps started_at`, () => {
        const r = run(from, earlier, earlier);
        applyRunStatus(r, to, now);
        expect(r).toEqual({ status: to, started_at: earlier, finished_at: null });
      });
    }
  }
  it('failed → completed keeps finished_at (terminal to terminal)', () => {
    const r = run('failed', earlier, earlier);
    applyRunStatus(r, 'completed', now);
    expect(r).toEqual({ status: 'completed', started_at: earlier, finished_at: earlier });
  });
  it('the same status changes nothing', () => {
    const r = run('running', earlier);
    expect(applyRunStatus(r, 'running', now)).toBe(false);
    expect(r).toEqual({ status: 'running', started_at: earlier, finished_at: null });
  });
});

describe('currentAttempts', () => {
  it('drops every attempt that a live step run reruns, and keeps the order', () => {
    const first = { id: 1, rerun_of: null };
    const second = { id: 2, rerun_of: null };
    const rerunOfFirst = { id: 3, rerun_of: { id: 1 } };
    const rerunOfRerun = { id: 4, rerun_of: { id: 3 } };
    expect(currentAttempts([first, second, rerunOfFirst, rerunOfRerun] as never[])).toEqual([
      second,
      rerunOfRerun,
    ]);
  });
});
