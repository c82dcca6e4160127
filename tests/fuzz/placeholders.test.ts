/**
 * The list of operations `make fuzz` leaves out is exactly the operations still answering 501: it cannot
 * hide an implemented operation from the fuzzer, and it must shrink when an operation lands.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { createHandlers } from '../../src/routes/index.ts';
import { isPlaceholder } from '../../src/routes/not-implemented.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const listed = readFileSync(join(import.meta.dirname, 'not-implemented-yet.txt'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

describe('the fuzzing exclusion list', () => {
  let database: TestDatabase;
  let container: Container;
  beforeAll(async () => {
    database = await createTestDatabase();
    container = await createContainer(loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' }));
  });
  afterAll(async () => {
    await container?.close();
    await database?.dispose();
  });

  it('names exactly the operations whose handler is still a 501 placeholder', () => {
    const handlers = createHandlers(container) as Record<string, unknown>;
    const placeholders = Object.keys(handlers).filter((operationId) => isPlaceholder(handlers[operationId]));
    expect([...listed].sort()).toEqual(placeholders.sort());
    expect(Object.keys(handlers).length - placeholders.length).toBeGreaterThan(0);
  });
});
