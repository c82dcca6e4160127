/**
 * Bulk seeding for the run scenarios of `make bench`: a handful of processes with 5 steps each, and
 * `runs` process runs with one step run per step, written straight into the tables (not through the
 * API) with multi-row INSERTs of as many rows as the database's bound-parameter limit allows, all in one
 * transaction. The data is deterministic (seeded PRNG) and looks like production: Danish names and kommuner in
 * `meta`, a status mix (recent runs pending or running, older ones mostly completed), `created_at` spread
 * evenly over the year before now and growing with the id.
 *
 * Ids are given explicitly (runs 1..runs, step runs 1..5·runs) so the bench can pick random existing ids
 * without reading them back; on PostgreSQL the id sequences are moved past them afterwards.
 */
import type { Kysely } from '@mikro-orm/sql';
import type { Orm } from '../../src/db/orm.ts';
import { ormDialect } from '../../src/db/orm.ts';
import { Process, ProcessStep } from '../../src/entities/index.ts';
import type { RunStatus, StepRunStatus } from '../../src/entities/index.ts';
import { addCalendarMonths } from '../../src/services/process.service.ts';
import { sqliteUtcText } from '../../src/db/sqlite-utc-text.ts';
import { reindexAllRunFields } from '../../src/db/meta-fields.ts';
import { OPTIMIZE_RUN_TEXT_SQL } from '../../src/db/sqlite-run-text.ts';
import { recountRuns } from '../../src/db/run-counts.ts';

export const STEPS_PER_PROCESS = 5;

/** Bound parameters per statement: SQLite allows at most 32766, PostgreSQL 65535. */
const MAX_VARIABLES = { sqlite: 32_766, postgresql: 65_535, mssql: 2_100 } as const;

export const KOMMUNER = [
  'København',
  'Aarhus',
  'Odense',
  'Aalborg',
  'Esbjerg',
  'Randers',
  'Kolding',
  'Horsens',
  'Vejle',
  'Roskilde',
] as const;
const DEPARTMENTS = ['Borgerservice', 'Jobcenter', 'Ydelsesservice', 'Teknik og Miljø', 'Børn og Unge'];
const PRIORITIES = ['lav', 'normal', 'normal', 'normal', 'høj'];
export const FIRST_NAMES = [
  'Jens',
  'Peter',
  'Lars',
  'Søren',
  'Henrik',
  'Mads',
  'Bjørn',
  'Frederik',
  'Anne',
  'Mette',
  'Kirsten',
  'Hanne',
  'Sofie',
  'Ida',
  'Freja',
  'Åse',
];
export const LAST_NAMES = [
  'Nielsen',
  'Jensen',
  'Hansen',
  'Pedersen',
  'Andersen',
  'Christensen',
  'Larsen',
  'Sørensen',
  'Rasmussen',
  'Jørgensen',
  'Petersen',
  'Madsen',
  'Kristensen',
  'Olsen',
  'Thomsen',
  'Johansen',
  'Møller',
  'Østergaard',
  'Æbelø',
  'Mortensen',
];

type FiveSteps = [string, string, string, string, string];
const PROCESSES: { name: string; retention: number | null; steps: FiveSteps }[] = [
  {
    name: 'Sygedagpenge – opfølgning',
    retention: 24,
    steps: ['Hent sag', 'Tjek CPR', 'Vurdér', 'Journalisér', 'Luk sag'],
  },
  {
    name: 'Boligstøtte – ansøgning',
    retention: 60,
    steps: ['Hent ansøgning', 'Tjek indkomst', 'Beregn', 'Send svar', 'Arkivér'],
  },
  {
    name: 'Flytning – adresseændring',
    retention: null,
    steps: ['Læs CPR', 'Tjek adresse', 'Opdatér', 'Kvittér', 'Arkivér'],
  },
  {
    name: 'Byggetilladelse – journalisering',
    retention: 120,
    steps: ['Hent', 'Klassificér', 'Tjek plan', 'Journalisér', 'Arkivér'],
  },
  {
    name: 'Hjemmehjælp – visitation',
    retention: 36,
    steps: ['Hent', 'Visitér', 'Planlæg', 'Underret', 'Arkivér'],
  },
];

/** The run meta fields every seeded process declares searchable (`meta.run_metadata_schema`). */
export const RUN_METADATA_SCHEMA = {
  kommune: 'string',
  department: 'string',
  prioritet: 'string',
  sagsnummer: 'string',
} as const;

/** mulberry32: a small deterministic PRNG, so every bench run seeds the same data. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(random: () => number, list: readonly T[]): T =>
  list[Math.floor(random() * list.length)];

export function danishName(random: () => number): string {
  return `${pick(random, FIRST_NAMES)} ${pick(random, LAST_NAMES)}`;
}

export function runMeta(random: () => number, sequence: number): Record<string, unknown> {
  return {
    kommune: pick(random, KOMMUNER),
    department: pick(random, DEPARTMENTS),
    prioritet: pick(random, PRIORITIES),
    sagsnummer: `S2026-${String(sequence).padStart(6, '0')}`,
  };
}

/** A CPR-like entity id (10 digits, not a real one). */
export function entityId(random: () => number): string {
  return String(Math.floor(random() * 1e10)).padStart(10, '0');
}

export interface SeededData {
  processIds: number[];
  runs: number;
  stepRuns: number;
  /** Milliseconds spent seeding (the insert transaction and the sequence fix-up). */
  seedMs: number;
}

type Row = Record<string, unknown>;

const DAY_MS = 86_400_000;
/** The newest runs (of the last ~3 days) are still pending or running; older ones mostly finished. */
const LIVE_RUNS = 1_000;

function runStatusOf(random: () => number, live: boolean): RunStatus {
  const roll = random();
  if (live) return roll < 0.3 ? 'pending' : 'running';
  if (roll < 0.86) return 'completed';
  if (roll < 0.96) return 'failed';
  if (roll < 0.98) return 'cancelled';
  return 'running';
}

/** Step statuses that derive `status` (run-status.ts): finished steps, the one that decides it, pending after. */
function stepStatusesOf(random: () => number, status: RunStatus): StepRunStatus[] {
  if (status === 'completed') return Array.from({ length: STEPS_PER_PROCESS }, () => 'success');
  if (status === 'pending') return Array.from({ length: STEPS_PER_PROCESS }, () => 'pending');
  const at = Math.floor(random() * STEPS_PER_PROCESS);
  const decisive: StepRunStatus = status === 'running' ? 'running' : status;
  return Array.from({ length: STEPS_PER_PROCESS }, (_, index) =>
    index < at ? 'success' : index === at ? decisive : 'pending',
  );
}

/**
 * Seeds an empty, migrated database. `runs` runs and 5·`runs` step runs; returns the process ids and
 * timing. Everything in one transaction.
 */
export async function seedRuns(orm: Orm, runs: number): Promise<SeededData> {
  const started = performance.now();
  const random = prng(20_261_125);
  const now = Date.now();
  const yearAgo = now - 365 * DAY_MS;
  const dialect = ormDialect(orm);
  const maxVariables = MAX_VARIABLES[dialect];
  const em = orm.em.fork();
  let processIds: number[] = [];
  await em.transactional(async (tx) => {
    const created = new Date(yearAgo - 30 * DAY_MS);
    const processes = PROCESSES.map((definition) =>
      tx.create(Process, {
        name: definition.name,
        meta: {
          ejer: 'Digitalisering',
          robot: `RPA-${definition.steps[0].length}`,
          run_metadata_schema: RUN_METADATA_SCHEMA,
        },
        retention_months: definition.retention,
        neutralize_keep_keys: null,
        created_at: created,
        updated_at: created,
      }),
    );
    const steps = processes.map((process, processIndex) =>
      PROCESSES[processIndex].steps.map((name, index) =>
        tx.create(ProcessStep, {
          process,
          index,
          name,
          is_rerunnable: index === 1,
          rerun_config: index === 1 ? { max_retries: 3, delay_seconds: 60 } : {},
          created_at: created,
          updated_at: created,
        }),
      ),
    );
    await tx.flush();
    processIds = processes.map((process) => process.id);

    // Kysely (MikroORM's own query builder, re-exported by @mikro-orm/sql) on the transaction's connection:
    // multi-row INSERTs with bound parameters. MikroORM's insertMany inlines every value into the SQL text
    // (its connection formats queries client-side): about 8 s instead of 6 s for 100,000 runs on SQLite.
    const db = tx.getTransactionContext<Kysely<Record<string, Row>>>();
    if (db === undefined) throw new Error('no transaction context');
    const value = (column: unknown): unknown => {
      if (column instanceof Date) return dialect === 'sqlite' ? sqliteUtcText(column) : column.toISOString();
      if (typeof column === 'boolean') return dialect === 'sqlite' ? Number(column) : column;
      if (column !== null && typeof column === 'object') return JSON.stringify(column);
      return column;
    };
    const insertAll = async (table: string, rows: Row[]) => {
      if (rows.length === 0) return;
      const perStatement = Math.floor(maxVariables / Object.keys(rows[0]).length);
      for (let i = 0; i < rows.length; i += perStatement) {
        const chunk = rows
          .slice(i, i + perStatement)
          .map((row) => Object.fromEntries(Object.entries(row).map(([key, column]) => [key, value(column)])));
        await db.insertInto(table).values(chunk).execute();
      }
    };
    let runRows: Row[] = [];
    let stepRunRows: Row[] = [];
    const flush = async () => {
      await insertAll('process_run', runRows);
      await insertAll('process_step_run', stepRunRows);
      runRows = [];
      stepRunRows = [];
    };

    for (let id = 1; id <= runs; id++) {
      const processIndex = Math.floor(random() * processes.length);
      const definition = PROCESSES[processIndex];
      const processSteps = steps[processIndex];
      const createdAt = new Date(
        yearAgo + ((now - yearAgo) * (id - 1)) / runs + Math.floor(random() * 60_000),
      );
      const status = runStatusOf(random, id > runs - LIVE_RUNS);
      const stepStatuses = stepStatusesOf(random, status);
      const runStartedAt =
        status === 'pending' ? null : new Date(createdAt.getTime() + 1_000 + random() * 4_000);
      let clock = runStartedAt?.getTime() ?? createdAt.getTime();
      const stepTimes = stepStatuses.map((stepStatus) => {
        if (stepStatus === 'pending') return { started: null, finished: null };
        const startedAt = new Date(clock);
        clock += 5_000 + Math.floor(random() * 115_000);
        const finished = stepStatus === 'running' ? null : new Date(clock);
        return { started: startedAt, finished };
      });
      const terminal = status === 'completed' || status === 'failed' || status === 'cancelled';
      const runFinishedAt = terminal ? new Date(clock) : null;
      runRows.push({
        id,
        process_id: processes[processIndex].id,
        entity_id: entityId(random),
        entity_name: random() < 0.05 ? null : danishName(random),
        // Stored as the upper-case enum name, as the ORM writes it (src/db/types/enum-name.type.ts).
        status: status.toUpperCase(),
        meta: runMeta(random, id),
        started_at: runStartedAt,
        finished_at: runFinishedAt,
        is_neutralized: false,
        neutralized_at: null,
        scheduled_deletion_at:
          definition.retention === null ? null : addCalendarMonths(createdAt, definition.retention),
        created_at: createdAt,
        updated_at: runFinishedAt ?? runStartedAt ?? createdAt,
        deleted_at: null,
        deletion_token: null,
      });
      processSteps.forEach((step, index) => {
        const stepStatus = stepStatuses[index];
        const times = stepTimes[index];
        stepRunRows.push({
          id: (id - 1) * STEPS_PER_PROCESS + index + 1,
          run_id: id,
          step_id: step.id,
          step_index: index,
          status: stepStatus.toUpperCase(),
          started_at: times.started,
          finished_at: times.finished,
          failure:
            stepStatus === 'failed'
              ? { error_code: 'CPR_TIMEOUT', message: 'CPR-registret svarede ikke', details: { forsøg: 1 } }
              : null,
          meta: stepStatus === 'pending' ? null : { robot: 'RPA-01' },
          last_modified_by: stepStatus === 'pending' ? null : 'RPA-01',
          can_rerun: step.is_rerunnable,
          rerun_config: step.rerun_config,
          rerun_count: 0,
          max_reruns: step.is_rerunnable ? 3 : 0,
          rerun_of_id: null,
          created_at: createdAt,
          updated_at: times.finished ?? times.started ?? createdAt,
          deleted_at: null,
          deletion_token: null,
        });
      });
      if (runRows.length >= 10_000) await flush();
    }
    await flush();
    // The run counts and indexed meta values of the seeded processes, as a migration makes them of runs
    // already there.
    await recountRuns(tx);
    await reindexAllRunFields(tx, dialect);
    // SQLite: the trigram index the seed filled in bulk, merged into one segment as a migration or an
    // adoption leaves it (OPTIMIZE_RUN_TEXT_SQL).
    if (dialect === 'sqlite') await tx.execute(OPTIMIZE_RUN_TEXT_SQL);

    if (dialect === 'postgresql') {
      // Explicit ids do not advance a serial's sequence: move each past the seeded ids.
      for (const table of ['process', 'process_step', 'process_run', 'process_step_run']) {
        await tx.execute(
          `select setval(pg_get_serial_sequence('${table}', 'id'), (select max(id) from ${table}))`,
        );
      }
    }
  });
  return {
    processIds,
    runs,
    stepRuns: runs * STEPS_PER_PROCESS,
    seedMs: performance.now() - started,
  };
}
