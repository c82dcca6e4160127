/**
 * What the process entry points (`server.ts`, the API; `worker.ts`, a rerun worker alone) share: reading the
 * configuration and building the container, where a mistake an operator can fix ends the process with its
 * message and exit code 2; the clean stop; and the last word on a fatal error (exit 1).
 */
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from './config/config.ts';
import { createContainer, type Container } from './container.ts';
import { OriginalDatabaseError } from './db/orm.ts';
import { flushLogger } from './logger.ts';

function exitWith(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** The container built from the environment (and a `.env` file in the working folder, when there is one). */
export async function containerOrExit(): Promise<Container> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return await createContainer(loadConfig(process.env));
  } catch (error) {
    if (error instanceof ConfigError || error instanceof OriginalDatabaseError) exitWith(2, error.message);
    throw error;
  }
}

/** Closes the container (the database last), says so, and exits 0. */
export async function closeAndExit(container: Container): Promise<never> {
  await container.close();
  container.logger.info('stopped');
  await flushLogger(container.logger);
  process.exit(0);
}

/** Runs an entry point's `main`; an error it does not handle ends the process with exit 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    exitWith(1, `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  });
}
