/**
 * `node src/db/mssql-queries.ts <out.sql>`: renders, offline (no SQL Server here), the T-SQL that MikroORM
 * emits for the queries the service runs, so `tsql-check.py` can parse them (`make check-tsql`). Add a
 * query here when a service adds one, above all paging and filtering queries: SQL Server needs ORDER BY
 * with OFFSET, rejects TOP together with OFFSET, and takes at most 2,100 parameters per statement.
 */
import { writeFileSync } from 'node:fs';
import { raw } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { ApiKey, Process, ProcessRun, ProcessStep } from '../entities/index.ts';
import { LATEST_LAST_USED_AT } from '../services/api-key-usage.ts';
import { applySoftDeleteFilter } from './soft-delete.ts';
import { closeOrm, createOrm } from './orm.ts';

type Render = (em: SqlEntityManager) => Promise<string> | string;

const QUERIES: Record<string, Render> = {
  'api key candidates by prefix (authentication)': (em) =>
    em.createQueryBuilder(ApiKey).select('*').where({ key_prefix: 'pd_AbCdE' }).getFormattedQuery(),
  'api key count (first start)': (em) => em.createQueryBuilder(ApiKey).count().getFormattedQuery(),
  'api key usage batch (one per key per flush)': (em) =>
    em
      .createQueryBuilder(ApiKey)
      .update({
        usage_count: raw('usage_count + ?', [17]),
        last_used_at: raw(LATEST_LAST_USED_AT, [
          new Date('2026-01-05T10:15:00.123Z'),
          new Date('2026-01-05T10:15:00.123Z'),
        ]),
      })
      .where({ id: 5 })
      .getFormattedQuery(),
  'first page of API keys (listApiKeys)': (em) =>
    em.createQueryBuilder(ApiKey).select('*').orderBy({ id: 'asc' }).limit(50).offset(0).getFormattedQuery(),
  'third page of API keys (listApiKeys)': (em) =>
    em
      .createQueryBuilder(ApiKey)
      .select('*')
      .orderBy({ id: 'asc' })
      .limit(50)
      .offset(100)
      .getFormattedQuery(),
  'a page of live processes by id (listProcesses)': async (em) => {
    const qb = em.createQueryBuilder(Process).select('*').orderBy({ id: 'asc' }).limit(50).offset(100);
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'live process count (listProcesses total)': async (em) =>
    (await applySoftDeleteFilter(em.createQueryBuilder(Process).count())).getFormattedQuery(),
  'live steps of a page of processes, by index (listProcesses, getProcess)': async (em) => {
    const qb = em
      .createQueryBuilder(ProcessStep)
      .select('*')
      .where({ process: { $in: [1, 2, 3] } })
      .orderBy({ process: 'asc', index: 'asc' });
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'live rerunnable steps of a process, by index (listRerunnableProcessSteps)': async (em) => {
    const qb = em
      .createQueryBuilder(ProcessStep)
      .select('*')
      .where({ process: 1, is_rerunnable: true })
      .orderBy({ index: 'asc' });
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'live step with an index (createStep conflict check)': async (em) => {
    const qb = em.createQueryBuilder(ProcessStep).count().where({ process: 1, index: 2 });
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
  'a page of live runs, newest first (paging shape of every list)': async (em) => {
    const qb = em
      .createQueryBuilder(ProcessRun)
      .select('*')
      .where({ process: 1, status: { $in: ['failed', 'running'] } })
      .orderBy({ created_at: 'desc', id: 'desc' })
      .limit(50)
      .offset(100);
    return (await applySoftDeleteFilter(qb)).getFormattedQuery();
  },
};

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: node src/db/mssql-queries.ts <out.sql>\n');
  process.exit(2);
}
const orm = await createOrm('mssql://offline:offline@127.0.0.1:1/offline', { connect: false });
try {
  const parts: string[] = [];
  for (const [name, render] of Object.entries(QUERIES)) {
    parts.push(`-- query: ${name}\n${await render(orm.em.fork())}`);
  }
  writeFileSync(out, parts.join('\n') + '\n');
  process.stdout.write(`rendered ${parts.length} SQL Server queries into ${out}\n`);
} finally {
  await closeOrm(orm);
}
