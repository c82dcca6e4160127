import type { Schemas } from '../../contract.ts';
import type { RunSearchHit } from '../../services/run-search.service.ts';
import { toProcessRun } from './runs.mapper.ts';

/** A run found by global search: the run as GET /runs shows it, plus the fields that matched. */
export function toRunSearchItem(hit: RunSearchHit): Schemas['RunSearchItem'] {
  return {
    ...toProcessRun(hit),
    matches: hit.matches.map(({ field, value }) => ({ field, value })),
  };
}
