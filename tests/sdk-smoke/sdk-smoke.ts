/**
 * `make sdk-smoke`: proves the generated SDK is a real, publishable package. It packs generated/sdk into
 * a tarball, installs that into an empty folder, starts the real server (`node src/server.ts`, fresh
 * SQLite database), and runs a typed TypeScript client from that folder against it (type-checked with
 * tsc first). Exits non-zero on any failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BOOTSTRAP_KEY_PATTERN, freePort, spawnServer, type SpawnedServer } from '../support/processes.ts';

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'pd-sdk-smoke-'));
const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

let server: SpawnedServer | undefined;
try {
  const packDir = join(work, 'pack');
  mkdirSync(packDir);
  run('npm', ['pack', '--silent', '--pack-destination', packDir], join(root, 'generated/sdk'));
  const tarball = join(packDir, readdirSync(packDir).find((name) => name.endsWith('.tgz')) ?? '');
  console.log(`packed ${tarball}`);

  const client = join(work, 'client');
  mkdirSync(client);
  writeFileSync(
    join(client, 'package.json'),
    JSON.stringify({
      name: 'sdk-smoke-client',
      private: true,
      type: 'module',
      // A tarball install does not build: the tarball already carries dist/.
      allowScripts: { '@process-dashboard/sdk': false },
    }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', tarball], client);
  console.log('installed the tarball into an empty folder');

  const port = await freePort();
  server = await spawnServer({
    cwd: work,
    port,
    env: { API_PORT: String(port), DATABASE_URL: `sqlite:${join(work, 'db.sqlite')}`, LOG_LEVEL: 'error' },
  });
  const [, adminKey = ''] = await server.waitForOutput(BOOTSTRAP_KEY_PATTERN);
  console.log(`server on :${port} printed its bootstrap admin key`);

  writeFileSync(
    join(client, 'client.ts'),
    `import { AuthApi, Configuration, MetaApi, ResponseError, type ApiKeyVerification } from '@process-dashboard/sdk';

const BASE_URL: string = ${JSON.stringify(`http://127.0.0.1:${port}`)};
const API_KEY: string = ${JSON.stringify(adminKey)};

const config = new Configuration({ basePath: BASE_URL, apiKey: API_KEY });
const verification: ApiKeyVerification = await new AuthApi(config).verifyApiKey();
if (verification.status !== 'valid' || verification.key_info.role !== 'admin') throw new Error('unexpected verification');
const info = await new MetaApi(config).getServiceInfo();
try {
  await new AuthApi(new Configuration({ basePath: BASE_URL, apiKey: 'pd_' + 'x'.repeat(43) })).verifyApiKey();
  throw new Error('a wrong key was accepted');
} catch (error) {
  if (!(error instanceof ResponseError) || error.response.status !== 401) throw error;
}
console.log(JSON.stringify({ verified: verification.key_info.name, service: info.name, version: info.version }));
`,
  );
  writeFileSync(
    join(client, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: [],
      },
      files: ['client.ts'],
    }),
  );
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], client);
  console.log('the client type-checks against the installed package');
  const output = execFileSync(process.execPath, ['client.ts'], {
    cwd: client,
    encoding: 'utf8',
  });
  console.log(`client output: ${output.trim()}`);
  console.log('sdk-smoke: OK');
} finally {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
}
