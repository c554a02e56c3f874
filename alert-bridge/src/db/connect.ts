import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { DatabaseIntrospector, SchemaMetadata, TableMetadata } from 'kysely';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Database } from './schema.js';
import { migrationProvider } from './migrations.js';

export interface Store {
  db: Kysely<Database>;
  engine: 'sqlite' | 'postgres';
  close(): Promise<void>;
  ping(): Promise<void>;
}

// bigint columns come back from node-postgres as strings; the bridge keeps epoch milliseconds,
// which fit a JS number exactly, so parse them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openStore(storage: Config['storage']): Promise<Store> {
  let db: Kysely<Database>;
  if (storage.driver === 'sqlite') {
    const file = new SqliteDatabase(storage.path);
    // WAL lets readers (API, dispatcher) run beside the writer. synchronous=FULL fsyncs the WAL at
    // every commit, so "200 OK" to Alertmanager means on disk; NORMAL is an opt-in trade.
    file.pragma('journal_mode = WAL');
    file.pragma(`synchronous = ${storage.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    file.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingPrepare(file) }) });
  } else {
    const options = [
      ...(storage.schema ? [`-c search_path=${storage.schema}`] : []),
      `-c statement_timeout=${storage.statement_timeout}`,
      // A transaction left open by a client that vanished must not hold row locks for long.
      `-c idle_in_transaction_session_timeout=${storage.statement_timeout * 3}`,
    ];
    const pool = new pg.Pool({
      connectionString: storage.url.reveal(),
      max: storage.pool_size,
      options: options.join(' '),
      connectionTimeoutMillis: storage.connect_timeout,
      // The server cannot enforce statement_timeout when the link itself stalls: bound the wait here too.
      query_timeout: storage.statement_timeout + 1_000,
      keepAlive: true,
    });
    // A client losing its connection (idle, or checked out between two statements) must not crash
    // the process with an unhandled 'error' event: the failing query rejects, the webhook answers
    // 503, and the pool opens a fresh connection for the next request.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    db = new Kysely<Database>({
      dialect: new OwnSchemaPostgresDialect({ pool }, storage.schema ?? 'public'),
    });
    if (storage.schema) await createSchema(db, storage.schema);
  }
  // Kysely looks for its bookkeeping tables across all schemas; name ours so several bridges
  // (or test runs) in separate schemas of one database do not see each other's.
  const schema = storage.driver === 'postgres' ? (storage.schema ?? 'public') : undefined;
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw new Error(`storage migration failed: ${(error as Error).message}`);
  }
  return {
    db,
    engine: storage.driver,
    close: () => db.destroy(),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
  };
}

/**
 * `create schema if not exists` is not atomic in PostgreSQL: two replicas starting at once can both
 * find it missing, and the second fails on the catalog's unique index. That one is fine: it exists.
 */
async function createSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (error) {
    const { rows } = await sql`select 1 from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db);
    if (rows.length === 0) throw error;
  }
}

/**
 * The PostgreSQL dialect with an introspector that looks at the bridge's own schema only. Kysely's
 * migrator asks the introspector whether its bookkeeping tables exist, and Kysely's own PostgreSQL
 * introspector reads every table of every schema, resolving each by name (has_schema_privilege,
 * pg_get_serial_sequence): when another session drops a schema meanwhile — another application in the
 * same database, or a parallel test run — the query fails with `schema "…" does not exist` and the
 * bridge refused to start. The migrator needs table names only, read here by OID joins, which a
 * concurrent drop cannot break. Written by hand because Kysely offers no schema filter.
 */
class OwnSchemaPostgresDialect extends PostgresDialect {
  constructor(
    config: ConstructorParameters<typeof PostgresDialect>[0],
    private readonly schema: string,
  ) {
    super(config);
  }

  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    const schema = this.schema;
    const getTables = async (): Promise<TableMetadata[]> => {
      const { rows } = await sql<{ name: string; view: boolean }>`
        select c.relname as name, c.relkind = 'v' as view
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${schema} and c.relkind in ('r', 'v', 'p')
        order by c.relname`.execute(db);
      return rows.map((r) => ({ name: r.name, schema, isView: r.view, isForeign: false, columns: [] }));
    };
    return {
      getSchemas: async (): Promise<SchemaMetadata[]> => {
        const { rows } = await sql<{ name: string }>`
          select nspname as name from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db);
        return rows;
      },
      getTables,
    };
  }
}

/**
 * Kysely's SQLite driver prepares every statement on every call, while the bridge runs the same few
 * statements over and over: keep the prepared ones (docs/benchmarks.md, "Figures behind code choices").
 */
function cachingPrepare(file: SqliteDatabase.Database): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = file.prepare.bind(file);
  return new Proxy(file, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') {
        const v = Reflect.get(target, prop, receiver) as unknown;
        // Native methods must run with the real database as `this`, not the proxy.
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      return (source: string) => {
        let st = cache.get(source);
        if (!st) {
          if (cache.size >= 500) cache.clear();
          st = prepare(source);
          cache.set(source, st);
        }
        return st;
      };
    },
  });
}
