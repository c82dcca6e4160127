import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const SERVICE_NAME = 'Process Dashboard API';
export const SERVICE_VERSION = pkg.version;
export const SERVICE_DESCRIPTION = 'Business process monitoring and management API';
/** Capabilities this build serves; grows as capability issues land. */
export const SERVICE_FEATURES = [
  'api_key_authentication',
  'role_based_access',
  'api_key_management',
] as const;
