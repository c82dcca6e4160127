import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Dialect } from '../db/database-url.ts';
import { distinctMetaValuesQueries } from '../db/run-search-queries.ts';
import type { Process } from '../entities/index.ts';
import { declaredMetaFields, indexedMetaFields, type DeclaredMetaField } from '../db/meta-fields.ts';
import { liveProcess } from './process.service.ts';

/** A live process and its declared run-meta fields. */
export interface ProcessFields {
  process: Process;
  metaFields: DeclaredMetaField[];
}

/** `ProcessFields` plus the distinct values of each declared field, by field name. */
export interface ProcessFilterMetadata extends ProcessFields {
  values: Map<string, string[]>;
}

/** Ascending by Unicode code point (as the original's Python `sorted`), not by UTF-16 code unit. */
export function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let index = 0; index < Math.min(left.length, right.length); index++) {
    const difference = (left[index]?.codePointAt(0) ?? 0) - (right[index]?.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/** What a process's runs can be searched, sorted and filtered by (any role). */
export class ProcessFieldsService {
  readonly #dialect: Dialect;

  constructor(options: { dialect: Dialect }) {
    this.#dialect = options.dialect;
  }

  /** The live process `id` and its declared run-meta fields; NotFoundError when there is none. */
  async searchableFields(em: EntityManager, id: number): Promise<ProcessFields> {
    const process = await liveProcess(em, id);
    return { process, metaFields: declaredMetaFields(process.meta) };
  }

  /**
   * `searchableFields` plus, for each declared field, the distinct values (strings, numbers and booleans
   * as text; objects, arrays and null left out) across the process's live runs, sorted by code point:
   * computed by the database (SELECT DISTINCT), at most `MAX_DISTINCT_META_VALUES` per field.
   */
  async filterMetadata(em: EntityManager, id: number): Promise<ProcessFilterMetadata> {
    const fields = await this.searchableFields(em, id);
    const names = fields.metaFields.map((field) => field.name);
    const values = new Map(names.map((name) => [name, [] as string[]]));
    const sql = em as SqlEntityManager;
    const indexed = new Set(indexedMetaFields(fields.process.meta));
    for (const statement of distinctMetaValuesQueries(sql, this.#dialect, id, names, indexed)) {
      const rows = await sql.execute<{ f: number | string; v: string }[]>(statement);
      for (const row of rows) values.get(names[Number(row.f)] ?? '')?.push(String(row.v));
    }
    for (const list of values.values()) list.sort(compareCodePoints);
    return { ...fields, values };
  }
}
