import type { Schemas } from '../../src/contract.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.ts';

type Problem = Schemas['Problem'];

async function expectProblem(response: Response, status: number, errorType: string): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = (await response.json()) as Problem;
  expect(problem).toMatchObject({ status, status_code: status, error_type: errorType });
  expect(problem.type).toBe(`https://process-dashboard.dev/problems/${errorType.replaceAll('_', '-')}`);
  expect(problem.title).not.toBe('');
  expect(problem.detail).not.toBe('');
  expect(new Date(problem.timestamp).toISOString()).toBe(problem.timestamp);
  expect(problem.request_id).toBe(response.headers.get('x-request-id'));
  // Nothing internal leaks: no stack frames, no SQL, no file paths.
  expect(JSON.stringify(problem)).not.toMatch(/\bat .+\.ts:\d+|select .* from|\/work\/|node_modules/i);
  return problem;
}

describe('errors are RFC 9457 problem details', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ BODY_LIMIT_BYTES: '2048' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('401 without a key on an /api/v1 path, with WWW-Authenticate', async () => {
    const response = await fetch(`${server.baseUrl}/api/v1/auth/verify`);
    const problem = await expectProblem(response, 401, 'authentication_error');
    expect(response.headers.get('www-authenticate')).toBe('ApiKey');
    expect(problem.instance).toBe('/api/v1/auth/verify');
  });

  it('401 for a key that does not exist', async () => {
    const response = await fetch(`${server.baseUrl}/api/v1/auth/verify`, {
      headers: { 'X-API-Key': 'pd_' + 'A'.repeat(43) },
    });
    await expectProblem(response, 401, 'authentication_error');
  });

  it('403 for a user key on an admin operation', async () => {
    const response = await server.request('/api/v1/api-keys', { headers: { 'X-API-Key': server.userKey } });
    await expectProblem(response, 403, 'authorization_error');
  });

  it('404 for a path the contract does not have', async () => {
    await expectProblem(await server.request('/api/v1/nothing-here'), 404, 'not_found');
  });

  it('422 listing every invalid query parameter, with its location', async () => {
    const response = await server.request('/api/v1/processes?page=0&size=1000');
    const problem = await expectProblem(response, 422, 'validation_error');
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ location: 'query', field: 'page' }),
        expect.objectContaining({ location: 'query', field: 'size' }),
      ]),
    );
  });

  it('422 for a body that breaks the schema, naming the member', async () => {
    const response = await server.request('/api/v1/processes', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      // Two members break the schema; a member the contract does not name is ignored (REQUIREMENTS §1).
      body: JSON.stringify({ name: 'x'.repeat(256), meta: 'not an object', unexpected: true }),
    });
    const problem = await expectProblem(response, 422, 'validation_error');
    expect(problem.errors?.map((issue) => issue.location)).toEqual(expect.arrayContaining(['body']));
    expect(problem.errors?.map((issue) => issue.field)).toEqual(expect.arrayContaining(['/name', '/meta']));
    expect(problem.errors?.map((issue) => issue.field)).not.toContain('/unexpected');
  });

  it('400 for a body that is not JSON', async () => {
    const response = await server.request('/api/v1/processes', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"name": ',
    });
    await expectProblem(response, 400, 'bad_request');
  });

  it('413 for a body over the configured limit', async () => {
    const response = await server.request('/api/v1/processes', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'big', meta: { blob: 'x'.repeat(4096) } }),
    });
    await expectProblem(response, 413, 'payload_too_large');
  });

  it('415 for a body that is not JSON by content type', async () => {
    const response = await server.request('/api/v1/processes', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: 'name=x',
    });
    await expectProblem(response, 415, 'unsupported_media_type');
  });

  it('echoes a sane X-Request-ID and replaces an unsafe one', async () => {
    const kept = await server.request('/api/v1/nothing-here', {
      headers: { 'X-Request-ID': 'robot-42.run:7' },
    });
    expect(kept.headers.get('x-request-id')).toBe('robot-42.run:7');
    expect(((await kept.json()) as Problem).request_id).toBe('robot-42.run:7');
    const replaced = await server.request('/api/v1/nothing-here', {
      headers: { 'X-Request-ID': 'bad id with spaces' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
