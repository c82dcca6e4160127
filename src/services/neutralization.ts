/**
 * The rules of GDPR neutralisation (REQUIREMENTS §4, reference/original-rules.md "Lifecycle"), as pure
 * functions: what a run's and its step runs' values become. `LifecycleService` applies them.
 */

/** The text a neutralised string value becomes. */
export const NEUTRALIZED_TEXT = '[NEUTRALIZED]';

/** The `entity_id` a neutralised run gets. */
export function neutralizedEntityId(runId: number): string {
  return `NEUTRALIZED_${runId}`;
}

/**
 * A JSON object after neutralisation: keys on `keepKeys` keep their value unchanged; of the others, a
 * string becomes `"[NEUTRALIZED]"`, a number 0, a boolean false, and anything else (object, array, null)
 * is dropped, nested personal data included. Null or a non-object stays as it is (null), or becomes null.
 */
export function neutralizeObject(
  value: Record<string, unknown> | null | undefined,
  keepKeys: ReadonlySet<string>,
): Record<string, unknown> | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return null;
  const result: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (keepKeys.has(key)) result[key] = member;
    else if (typeof member === 'string') result[key] = NEUTRALIZED_TEXT;
    else if (typeof member === 'number') result[key] = 0;
    else if (typeof member === 'boolean') result[key] = false;
  }
  return result;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * The keep-list for the runs of a process: its `neutralize_keep_keys` when set, else a string list in its
 * `meta.neutralize_keep_keys` (process meta written for the original service may carry one), else the
 * global list from configuration (`NEUTRALIZE_KEEP_KEYS`).
 */
export function keepKeysOf(
  process: { neutralize_keep_keys?: string[] | null; meta?: Record<string, unknown> | null } | null,
  globalKeepKeys: readonly string[],
): ReadonlySet<string> {
  if (process?.neutralize_keep_keys != null) return new Set(process.neutralize_keep_keys);
  const fromMeta = process?.meta?.['neutralize_keep_keys'];
  if (isStringList(fromMeta)) return new Set(fromMeta);
  return new Set(globalKeepKeys);
}
