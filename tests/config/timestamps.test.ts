import { describe, expect, it } from 'vitest';
import { isLenientTimestamp, parseTimestamp } from '../../src/util/timestamps.ts';

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

describe('isLenientTimestamp', () => {
  it('accepts the canonical form on its fast path only for real instants', () => {
    expect(isLenientTimestamp('2026-01-05T10:15:00.123Z')).toBe(true);
    expect(isLenientTimestamp('2024-02-29T23:59:59.999Z')).toBe(true);
    expect(isLenientTimestamp('2026-02-29T10:15:00.123Z')).toBe(false);
    expect(isLenientTimestamp('2026-02-30T10:15:00.123Z')).toBe(false);
    expect(isLenientTimestamp('2026-01-05T24:00:00.000Z')).toBe(false);
    expect(isLenientTimestamp('2026-13-05T10:15:00.123Z')).toBe(false);
    expect(isLenientTimestamp('2000-02-29T00:00:00.000Z')).toBe(true);
    expect(isLenientTimestamp('2100-02-29T00:00:00.000Z')).toBe(false);
    expect(isLenientTimestamp('2026-04-31T00:00:00.000Z')).toBe(false);
    expect(isLenientTimestamp('2026-01-05T10:60:00.000Z')).toBe(false);
    // The canonical shape with a character that is no digit: not an instant.
    expect(isLenientTimestamp('2026-01-05T10:15:00.12xZ')).toBe(false);
    expect(isLenientTimestamp('2026-0a-05T10:15:00.123Z')).toBe(false);
    expect(isLenientTimestamp('20-6-01-05T10:15:00.123Z')).toBe(false);
    // The fast path agrees with what a Date makes of the same text.
    for (const value of [
      '2000-02-29T00:00:00.000Z',
      '2100-02-29T00:00:00.000Z',
      '2026-12-31T23:59:59.999Z',
    ]) {
      const date = new Date(value);
      expect(isLenientTimestamp(value), value).toBe(
        !Number.isNaN(date.getTime()) && date.toISOString() === value,
      );
    }
  });

  it('agrees with parseTimestamp on every other form', () => {
    for (const value of [
      '2026-01-05',
      '2026-01-05T10:15:00',
      '2026-01-05T10:15:00+02:00',
      '2026-01-05T10:15',
    ]) {
      expect(isLenientTimestamp(value)).toBe(parseTimestamp(value) !== undefined);
    }
    expect(isLenientTimestamp('05/01/2026')).toBe(false);
  });
});
