/** An organization's tree on PostgreSQL, read in one snapshot (REPEATABLE READ) so its parts agree. */
import type { LedgerStorage } from '../postgres/ledgerStorage.ts';
import type { Sql } from '../postgres/pool.ts';
import { listProjectsOf, memberOrg } from './postgresTeamsReads.ts';
import { assembleTree, keysByProject, periodKeysAt, SpendIndex, toBudget, toMember } from './teamRows.ts';
import type { OrgTree } from './teamsLedger.ts';

export function postgresOrgTree(storage: LedgerStorage, actor: string, orgId: string): Promise<OrgTree> {
  return storage.sql.begin('isolation level repeatable read read only', async (transaction) => {
    const tx = transaction as unknown as Sql;
    const { org } = await memberOrg(tx, actor, orgId);
    const keys = periodKeysAt(storage.clock(), storage.epochSeconds);
    const members = await tx`SELECT * FROM org_members WHERE org_id = ${orgId} ORDER BY added_at_ms, account_id`;
    const budgets = await tx`SELECT * FROM budgets WHERE org_id = ${orgId} ORDER BY scope_id, currency, period`;
    const spend = await tx`SELECT * FROM budget_spend WHERE period_key IN (${keys.epochKey}, ${keys.monthKey})
      AND (scope_id = ${orgId} OR scope_id IN (SELECT id FROM projects WHERE org_id = ${orgId}))`;
    const keyRows = await tx`SELECT id, project_id FROM api_keys
      WHERE account_id = ${org.accountId} AND project_id IS NOT NULL ORDER BY created_at_ms, id`;
    return assembleTree(
      {
        organization: org,
        members: members.map(toMember),
        projects: await listProjectsOf(tx, orgId),
        budgets: budgets.map(toBudget),
        spend: new SpendIndex(spend),
        keyIds: keysByProject(keyRows),
      },
      keys,
    );
  }) as Promise<OrgTree>;
}
