// The PostgreSQL of the tests: 127.0.0.1:5432, trust auth, database `test`; TILLWATCH_TEST_PG overrides it.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.TILLWATCH_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other test file or run uses, so parallel tests never share rows. */
export function uniqueSchemaName(prefix = 'tw_test'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Drops a schema made for a test, with everything in it. */
export async function dropSchema(schema: string, url = PG_URL): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a test schema name: ${schema}`);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await c.end();
  }
}
