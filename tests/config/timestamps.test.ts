import { describe, expect, it } from 'vitest';
import { parseTimestamp } from '../../src/util/timestamps.ts';

describe('parseTimestamp', () => {
  it.each([
    ['2026-01-05T10:15:00.123Z', '2026-01-05T10:15:00.123Z'],
    ['2026-01-05T10:15:00.123456', '2026-01-05T10:15:00.123Z'],
    ['2026-01-05T10:15:00', '2026-01-05T10:15:00.000Z'],
    ['2026-01-05T12:15:00+02:00', '2026-01-05T10:15:00.000Z'],
    ['2026-01-05T12:15:00+0200', '2026-01-05T10:15:00.000Z'],
    ['2026-01-05', '2026-01-05T00:00:00.000Z'],
  ])('reads %s as %s (offset-less means UTC)', (input, expected) => {
    expect(parseTimestamp(input)?.toISOString()).toBe(expected);
  });

  it.each([
    '2026-02-30',
    '2026-13-01T00:00:00Z',
    '2026-01-05T24:00:00Z',
    'yesterday',
    '2026-01-05T10:15Z+',
    '',
  ])('rejects %s', (input) => {
    expect(parseTimestamp(input)).toBeUndefined();
  });
});
