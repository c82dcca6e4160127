/**
 * Parsing of the `DATABASE_URL` setting. Pure (no I/O): path resolution and folder creation happen in
 * orm-config.ts.
 *
 * Accepted forms:
 *   sqlite:<path>                 relative (to the working directory) or absolute file path
 *   sqlite::memory:               in-memory database (one per connection)
 *   postgresql://user:pass@host:port/db     (also postgres://; port defaults to 5432)
 *   mssql://user:pass@host:port/db?encrypt=true&trustServerCertificate=false
 *                                 (also sqlserver://; port defaults to 1433; encrypt defaults to true,
 *                                 trustServerCertificate to false)
 * User names and passwords are URL-decoded (`p%40ss` → `p@ss`).
 */

export const DIALECTS = ['sqlite', 'postgresql', 'mssql'] as const;
export type Dialect = (typeof DIALECTS)[number];

export interface SqliteDatabaseUrl {
  dialect: 'sqlite';
  /** The file path as written in the URL (may be relative), or `:memory:`. */
  path: string;
  inMemory: boolean;
}

export interface ServerDatabaseUrl {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface PostgresqlDatabaseUrl extends ServerDatabaseUrl {
  dialect: 'postgresql';
}

export interface MssqlDatabaseUrl extends ServerDatabaseUrl {
  dialect: 'mssql';
  encrypt: boolean;
  trustServerCertificate: boolean;
}

export type ParsedDatabaseUrl = SqliteDatabaseUrl | PostgresqlDatabaseUrl | MssqlDatabaseUrl;

const ACCEPTED_FORMS = [
  'sqlite:<relative or absolute file path>',
  'sqlite::memory:',
  'postgresql://user:password@host:port/database (or postgres://)',
  'mssql://user:password@host:port/database?encrypt=true&trustServerCertificate=false (or sqlserver://)',
].join(', ');

function invalid(reason: string): Error {
  return new Error(`Invalid DATABASE_URL: ${reason}. Accepted forms: ${ACCEPTED_FORMS}`);
}

function parseBoolean(name: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw invalid(`query parameter "${name}" must be true or false, got "${value}"`);
}

function decode(component: string, what: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw invalid(`the ${what} is not correctly URL-encoded`);
  }
}

function parseServerUrl(
  raw: string,
  defaultPort: number,
  allowedParams: readonly string[],
): { base: ServerDatabaseUrl; params: URLSearchParams } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('not a valid URL');
  }
  if (!url.hostname) throw invalid('the host is missing');
  const database = decode(url.pathname.replace(/^\//, ''), 'database name');
  if (!database || database.includes('/')) throw invalid('the database name is missing or contains "/"');
  if (!url.username) throw invalid('the user name is missing');
  let port = defaultPort;
  if (url.port) {
    port = Number(url.port);
  }
  for (const key of url.searchParams.keys()) {
    if (!allowedParams.includes(key)) {
      throw invalid(
        `unknown query parameter "${key}"${allowedParams.length ? ` (allowed: ${allowedParams.join(', ')})` : ''}`,
      );
    }
  }
  // IPv6 literals come back as "[::1]"; drivers want the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    base: {
      host,
      port,
      user: decode(url.username, 'user name'),
      password: decode(url.password, 'password'),
      database,
    },
    params: url.searchParams,
  };
}

export function parseDatabaseUrl(url: string): ParsedDatabaseUrl {
  const trimmed = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite': {
      let path = trimmed.slice('sqlite:'.length);
      // Tolerate the URL-ish spelling sqlite://<path> (sqlite:///abs/path → /abs/path).
      if (path.startsWith('//')) path = path.slice(2);
      if (!path) throw invalid('the SQLite file path is missing');
      const inMemory = path === ':memory:';
      return { dialect: 'sqlite', path, inMemory };
    }
    case 'postgresql':
    case 'postgres': {
      const { base } = parseServerUrl(trimmed, 5432, []);
      return { dialect: 'postgresql', ...base };
    }
    case 'mssql':
    case 'sqlserver': {
      const { base, params } = parseServerUrl(trimmed, 1433, ['encrypt', 'trustServerCertificate']);
      const encrypt = params.get('encrypt');
      const trust = params.get('trustServerCertificate');
      return {
        dialect: 'mssql',
        ...base,
        encrypt: encrypt == null ? true : parseBoolean('encrypt', encrypt),
        trustServerCertificate: trust == null ? false : parseBoolean('trustServerCertificate', trust),
      };
    }
    default:
      throw invalid(scheme ? `unsupported scheme "${scheme}:"` : 'no scheme');
  }
}

/** The URL with its password masked, for logs and error messages. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** The dialect of an EntityManager of an ORM made by `createOrm` (from its driver, which `buildOrmConfig` picked). */
export function emDialect(em: { getDriver(): object }): Dialect {
  const driver = em.getDriver().constructor.name;
  const drivers: Record<string, Dialect> = {
    UtcTextSqliteDriver: 'sqlite',
    BoundParameterPostgreSqlDriver: 'postgresql',
    MsSqlDriver: 'mssql',
  };
  const dialect = drivers[driver];
  if (dialect === undefined) throw new Error(`unsupported MikroORM driver ${driver}`);
  return dialect;
}
