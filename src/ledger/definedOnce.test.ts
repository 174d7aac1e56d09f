/**
 * Each SQL function is defined once in src/: created by one statement of one source file, and never by a migration
 * except the documented one. The PostgreSQL migrations hold schema changes only; the ledger functions are installed
 * from functions.ts after them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postgresFollowerMigrations } from '../chain/follower/migrations.ts';
import { postgresFunctionNames, postgresFunctionsSql } from './postgres/functions.ts';
import { postgresMigrations } from './postgres/migrations.ts';
import { postgresSettingsMigrations } from './settings/migrations.ts';

const srcDir = join(import.meta.dirname, '..');
const createFunction = /CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+([a-z_][\w.]*)\s*\(/gi;

/**
 * The one function a migration may create: the append-only trigger function. Migration 1 (applied in every deployed
 * schema, and never edited) creates the triggers that execute it, so it must exist before them; it holds no rule
 * and never changes. It stays out of functions.ts, whose changed set is dropped and recreated, which a function that
 * triggers depend on would refuse.
 */
const migrationFunctions = [{ migration: 'ledger 1', name: 'perdiem_append_only' }];

/** A schema change, or the data carry-over that goes with one (a backfill in the same migration). */
const schemaStatement =
  /^(CREATE (UNIQUE )?INDEX|CREATE (TABLE|DOMAIN|TRIGGER|SCHEMA|SEQUENCE|TYPE)|ALTER (TABLE|DOMAIN|INDEX|SEQUENCE)|DROP (TABLE|INDEX|TRIGGER|DOMAIN|TYPE|SEQUENCE)|COMMENT ON|UPDATE|INSERT INTO|DELETE FROM)\b/i;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every function a text creates, by name. */
function createdIn(text: string): string[] {
  return [...text.matchAll(createFunction)].map((match) => match[1]!.toLowerCase());
}

/** The statements of a migration: split at semicolons outside dollar-quoted bodies, comments dropped. */
function statementsOf(sql: string): string[] {
  const bodies: string[] = [];
  const flat = sql.replace(/\$\$[\s\S]*?\$\$/g, (body) => `$body${bodies.push(body) - 1}$`);
  return flat
    .split(';')
    .map((statement) =>
      statement
        .replace(/--.*$/gm, '')
        .replace(/\$body(\d+)\$/g, (_, i: string) => bodies[Number(i)]!)
        .trim(),
    )
    .filter((statement) => statement !== '');
}

const migrationSets = [
  { set: 'ledger', migrations: postgresMigrations },
  { set: 'chain follower', migrations: postgresFollowerMigrations },
  { set: 'settings', migrations: postgresSettingsMigrations },
];

describe('SQL functions defined once', () => {
  it('creates each SQL function in one statement of one source file', () => {
    const sites = new Map<string, string[]>();
    for (const file of sourceFiles(srcDir)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(createFunction)) {
        const line = text.slice(0, match.index).split('\n').length;
        const name = match[1]!.toLowerCase();
        sites.set(name, [...(sites.get(name) ?? []), `${relative(srcDir, file)}:${line}`]);
      }
    }
    const twice = [...sites].filter(([, where]) => where.length > 1);
    expect(twice).toEqual([]);
    for (const name of postgresFunctionNames) {
      expect(sites.get(name)?.map((site) => site.split(':')[0])).toEqual(['ledger/postgres/functions.ts']);
    }
  });

  it('installs every ledger function from one text, each created once there', () => {
    expect(createdIn(postgresFunctionsSql).sort()).toEqual([...postgresFunctionNames].sort());
  });

  it('creates no function in a migration but the documented append-only trigger function', () => {
    const created = migrationSets.flatMap(({ set, migrations }) =>
      migrations.flatMap((m) => createdIn(m.sql).map((name) => ({ migration: `${set} ${m.version}`, name }))),
    );
    expect(created).toEqual(migrationFunctions);
    for (const { migrations } of migrationSets) {
      for (const m of migrations) expect(m.sql).not.toMatch(/\bCREATE\s+(OR\s+REPLACE\s+)?PROCEDURE\b|\bDO\s+\$/i);
    }
  });

  it('holds only schema changes (and their backfills) in the PostgreSQL migrations', () => {
    for (const { set, migrations } of migrationSets) {
      for (const m of migrations) {
        for (const statement of statementsOf(m.sql)) {
          if (createdIn(statement).some((name) => migrationFunctions.some((f) => f.name === name))) continue;
          expect(statement, `${set} migration ${m.version}`).toMatch(schemaStatement);
        }
      }
    }
  });
});
