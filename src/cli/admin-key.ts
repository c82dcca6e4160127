/**
 * `make admin-key` / `npm run admin-key -- [--name N] [--role admin|user] [--description D]`: creates an
 * API key in the configured database (applying migrations first) and prints it once.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.ts';
import { createContainer } from '../container.ts';

if (existsSync('.env')) process.loadEnvFile('.env');
const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'Admin key (CLI)' },
    role: { type: 'string', default: 'admin' },
    description: { type: 'string' },
  },
});
if (values.role !== 'admin' && values.role !== 'user') {
  process.stderr.write('--role must be admin or user\n');
  process.exit(2);
}
if (values.name.length < 1 || values.name.length > 100) {
  process.stderr.write('--name must have 1 to 100 characters\n');
  process.exit(2);
}
const container = await createContainer(loadConfig({ ...process.env, LOG_LEVEL: 'warn' }));
try {
  const { apiKey, plaintext } = await container.apiKeys.create(container.orm.em.fork(), {
    name: values.name,
    description: values.description ?? null,
    role: values.role,
  });
  process.stdout.write(
    `Created ${apiKey.role} key #${apiKey.id} "${apiKey.name}". It is shown only once:\n${plaintext}\n`,
  );
} finally {
  await container.close();
}
