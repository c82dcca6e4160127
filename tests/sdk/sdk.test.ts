import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthApi,
  Configuration,
  MetaApi,
  ProcessesApi,
  ResponseError,
} from '../../generated/sdk/src/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

/** The generated SDK is one of the clients: when it and the server disagree, these fail. */
describe('the generated SDK against the in-process app', () => {
  let server: TestServer;
  let config: Configuration;
  beforeAll(async () => {
    server = await startTestServer();
    config = new Configuration({ basePath: server.baseUrl, apiKey: server.adminKey });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('getServiceInfo returns both the original and the README members', async () => {
    const info = await new MetaApi(new Configuration({ basePath: server.baseUrl })).getServiceInfo();
    expect(info).toMatchObject({
      status: 'healthy',
      app_name: 'Process Dashboard API',
      name: 'Process Dashboard API',
    });
    expect(info.version).toBe(info.app_version);
  });

  it('getHealth answers without a key', async () => {
    const health = await new MetaApi(new Configuration({ basePath: server.baseUrl })).getHealth();
    expect(health.status).toBe('ok');
  });

  it('verifyApiKey and getCurrentApiKey describe the calling key', async () => {
    const auth = new AuthApi(config);
    const verification = await auth.verifyApiKey();
    expect(verification.status).toBe('valid');
    expect(verification.key_info).toMatchObject({ name: 'Test admin', role: 'admin', is_active: true });
    const me = await auth.getCurrentApiKey();
    expect(me.key_prefix).toBe(server.adminKey.slice(0, 8));
    expect(me.created_at).toBeInstanceOf(Date);
  });

  it('surfaces problem details as a ResponseError with the status', async () => {
    const userConfig = new Configuration({ basePath: server.baseUrl, apiKey: server.userKey });
    const error = await new ProcessesApi(userConfig)
      .deleteProcess({ process_id: 1 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ResponseError);
    const response = (error as ResponseError).response;
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error_type: 'authorization_error', status_code: 403 });
  });
});
