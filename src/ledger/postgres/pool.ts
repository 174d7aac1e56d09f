/**
 * Opens a pool on one schema of a PostgreSQL database and brings that schema up to date before anything uses it.
 * The ledger and the chain follower each open their own pool here, with their own migrations.
 */
import postgres from 'postgres';

export type Sql = postgres.Sql<{ bigint: bigint }>;
export type TransactionSql = postgres.TransactionSql<{ bigint: bigint }>;

export interface PostgresPoolOptions {
  url: string;
  /** Tables and functions live in this schema (default "perdiem"); it is created when `createSchema` is set. */
  schema?: string;
  createSchema?: boolean;
  poolMax: number;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  synchronousCommit?: 'on' | 'off';
}

/** The pool, once `migrate` has run on it; closed again when the schema cannot be brought up to date. */
export async function openPostgresPool(
  options: PostgresPoolOptions,
  migrate: (sql: Sql) => Promise<void>,
): Promise<Sql> {
  const schema = options.schema ?? 'perdiem';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new RangeError(`invalid schema name: ${schema}`);
  const connection: Record<string, string> = { search_path: schema, application_name: options.applicationName };
  if (options.synchronousCommit) connection.synchronous_commit = options.synchronousCommit;
  const sql = postgres(options.url, {
    max: options.poolMax,
    types: { bigint: postgres.BigInt },
    connection,
    onnotice: () => {},
  }) as unknown as Sql;
  try {
    if (options.createSchema) await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await migrate(sql);
  } catch (error) {
    await sql.end({ timeout: 5 });
    throw error;
  }
  return sql;
}
