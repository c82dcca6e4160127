import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createContainer } from '../../src/container.ts';
import { createLogger } from '../../src/logger.ts';
import { createTestDatabase } from '../support/database.ts';
import { ACCESS_LOG_MEMBERS } from '../support/log-lines.ts';

describe('access log', () => {
  it('writes one JSON line per request with the key id, never the key or the query string', async () => {
    const lines: string[] = [];
    const database = await createTestDatabase();
    const container = await createContainer(loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'info' }), {
      logger: createLogger('info', (_level, line) => lines.push(line)),
    });
    const { apiKey, plaintext } = await container.apiKeys.create(container.orm.em.fork(), {
      name: 'Logged robot',
    });
    const server = createApp(container).listen(0, '127.0.0.1');
    try {
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/auth/me?entity_name=Jens%20Hansen`, {
        headers: { 'X-API-Key': plaintext, 'X-Request-ID': 'log-test-1' },
      });
      expect(response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const entry = entries.find((candidate) => candidate['request_id'] === 'log-test-1');
      expect(entry).toMatchObject({
        level: 'info',
        message: 'request',
        method: 'GET',
        path: '/api/v1/auth/me',
        status: 200,
        api_key_id: apiKey.id,
      });
      expect(typeof entry?.['duration_ms']).toBe('number');
      // Nothing else: no request or response headers.
      expect(Object.keys(entry ?? {}).sort()).toEqual(ACCESS_LOG_MEMBERS);
      expect(lines.join('\n')).not.toContain(plaintext);
      expect(lines.join('\n')).not.toContain('Jens');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await container.close();
      await database.dispose();
    }
  });
});
