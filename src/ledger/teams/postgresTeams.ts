/**
 * Teams on PostgreSQL. Every change and its audit entry run in one transaction. Changes of one organization are
 * serialised behind its row (lockOrg); budget changes and reallocations also hold its funding account's mutex, the
 * row every reservation of that account locks first, so a reallocation reads the source budget's spend and holds and
 * moves them with no reservation in between. Lock order: organization → funding mutex (reservations take only the
 * second, then their own rows).
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import { validateKeyInput } from '../accounts/accountRules.ts';
import type { CreatedKey } from '../accounts/accountsLedger.ts';
import { insertAccountRows, insertKeyRows, readKey, requireAccount } from '../accounts/postgresAccounts.ts';
import { generateSecret } from '../apiKeySecret.ts';
import { invalidInput } from '../inputChecks.ts';
import type { LedgerStorage } from '../postgres/ledgerStorage.ts';
import type { Sql } from '../postgres/pool.ts';
import { budgetRecord, budgetTarget } from './auditReplay.ts';
import {
  type AuditWrite,
  appendAudit,
  listProjectsOf,
  lockFundingMutex,
  lockOrg,
  memberOrg,
  memberProject,
  ownersOf,
  readBudget,
  readProject,
  requireBudget,
  roleOf,
  writeBudget,
} from './postgresTeamsReads.ts';
import { postgresOrgTree } from './postgresTeamsTree.ts';
import { newOrgId, newProjectId, periodKeysAt, SpendIndex, toAuditEntry, toMember, toOrg } from './teamRows.ts';
import {
  auditPageSize,
  budgetNotFound,
  checkId,
  checkName,
  checkReallocate,
  checkRemoveMember,
  checkRole,
  decideSetMember,
  nextBudget,
  projectNotFound,
  reallocated,
  requireManager,
  unusedOf,
  validateReallocate,
  validateSetBudget,
} from './teamRules.ts';
import type {
  AuditEntry,
  Budget,
  CreateProjectKeyInput,
  Organization,
  OrgMember,
  OrgRole,
  OrgTree,
  Project,
  ReallocateInput,
  SetBudgetInput,
  TeamsLedger,
} from './teamsLedger.ts';

export class PostgresTeams implements TeamsLedger {
  private readonly storage: LedgerStorage;

  constructor(storage: LedgerStorage) {
    this.storage = storage;
  }

  private get sql(): Sql {
    return this.storage.sql;
  }

  /** One transaction; `audit` appends an entry to it, stamped with the clock. */
  private tx<T>(body: (tx: Sql, audit: (entry: Omit<AuditWrite, 'atMs'>) => Promise<void>) => Promise<T>): Promise<T> {
    return this.sql.begin((tx) => {
      const sql = tx as unknown as Sql;
      return body(sql, (entry) => appendAudit(sql, { ...entry, atMs: this.storage.clock() }));
    }) as Promise<T>;
  }

  async createOrg(actor: string, input: { name: string }): Promise<Organization> {
    const name = checkName(input?.name);
    const now = this.storage.clock();
    const org: Organization = { id: newOrgId(now), name, accountId: randomUUID(), createdAtMs: now };
    await requireAccount(this.sql, actor);
    await this.tx(async (tx, audit) => {
      await insertAccountRows(tx, { id: org.accountId, name: `organization ${name}`, createdAtMs: now });
      await tx`INSERT INTO organizations (id, name, account_id, created_at_ms)
        VALUES (${org.id}, ${name}, ${org.accountId}, ${now})`;
      await tx`INSERT INTO org_members (org_id, account_id, role, added_at_ms)
        VALUES (${org.id}, ${actor}, 'OWNER', ${now})`;
      const after = { ...org, ownerAccountId: actor };
      await audit({ orgId: org.id, actor, action: 'org.create', target: `org:${org.id}`, before: null, after });
    });
    return org;
  }

  async getOrg(actor: string, orgId: string): Promise<Organization> {
    return (await memberOrg(this.sql, actor, orgId)).org;
  }

  async listOrgs(actor: string): Promise<Organization[]> {
    const rows = await this.sql`SELECT o.* FROM organizations o JOIN org_members m ON m.org_id = o.id
      WHERE m.account_id = ${actor} ORDER BY o.created_at_ms, o.id`;
    return rows.map(toOrg);
  }

  async orgOfAccount(accountId: string): Promise<Organization | null> {
    const [row] = await this.sql`SELECT * FROM organizations WHERE account_id = ${accountId}`;
    return row ? toOrg(row) : null;
  }

  async setMember(actor: string, orgId: string, input: { accountId: string; role: OrgRole }): Promise<OrgMember> {
    checkId(input?.accountId, 'accountId');
    const role = checkRole(input.role);
    const { accountId } = input;
    return this.tx(async (tx, audit) => {
      const org = await lockOrg(tx, orgId);
      const actorRole = await roleOf(tx, orgId, actor);
      const current = await roleOf(tx, orgId, accountId);
      const action = decideSetMember(actorRole, current, role, await ownersOf(tx, orgId));
      if (org?.accountId === accountId) {
        throw invalidInput("an organization's own account cannot be its member", 'accountId');
      }
      await requireAccount(tx, accountId);
      if (action === 'member.add') {
        await tx`INSERT INTO org_members (org_id, account_id, role, added_at_ms)
          VALUES (${orgId}, ${accountId}, ${role}, ${this.storage.clock()})`;
      }
      if (action === 'member.role') {
        await tx`UPDATE org_members SET role = ${role} WHERE org_id = ${orgId} AND account_id = ${accountId}`;
      }
      if (action !== null) {
        const before = current === null ? null : { accountId, role: current };
        await audit({ orgId, actor, action, target: `member:${accountId}`, before, after: { accountId, role } });
      }
      const [row] = await tx`SELECT * FROM org_members WHERE org_id = ${orgId} AND account_id = ${accountId}`;
      return toMember(row!);
    });
  }

  async removeMember(actor: string, orgId: string, accountId: string): Promise<{ revokedKeys: number }> {
    checkId(accountId, 'accountId');
    return this.tx(async (tx, audit) => {
      const org = await lockOrg(tx, orgId);
      const actorRole = await roleOf(tx, orgId, actor);
      const current = await roleOf(tx, orgId, accountId);
      checkRemoveMember(actorRole, current, await ownersOf(tx, orgId));
      await tx`DELETE FROM org_members WHERE org_id = ${orgId} AND account_id = ${accountId}`;
      await tx`DELETE FROM project_admins WHERE account_id = ${accountId}
        AND project_id IN (SELECT id FROM projects WHERE org_id = ${orgId})`;
      const revoked = await tx`UPDATE api_keys SET revoked_at_ms = ${this.storage.clock()}
        WHERE member_account_id = ${accountId} AND account_id = ${org!.accountId} AND revoked_at_ms IS NULL
        RETURNING id`;
      const before = { accountId, role: current };
      await audit({ orgId, actor, action: 'member.remove', target: `member:${accountId}`, before, after: null });
      return { revokedKeys: revoked.length };
    });
  }

  async listMembers(actor: string, orgId: string): Promise<OrgMember[]> {
    await memberOrg(this.sql, actor, orgId);
    const rows = await this.sql`SELECT * FROM org_members WHERE org_id = ${orgId} ORDER BY added_at_ms, account_id`;
    return rows.map(toMember);
  }

  async createProject(actor: string, orgId: string, input: { name: string }): Promise<Project> {
    const name = checkName(input?.name);
    return this.tx(async (tx, audit) => {
      requireManager((await memberOrg(tx, actor, orgId, true)).role, 'create projects');
      const [exists] = await tx`SELECT 1 FROM projects WHERE org_id = ${orgId} AND name = ${name}`;
      if (exists) throw new ConflictError('a project of this name exists', { code: 'project_exists', param: 'name' });
      const now = this.storage.clock();
      const project: Project = { id: newProjectId(now), orgId, name, adminAccountIds: [], createdAtMs: now };
      await tx`INSERT INTO projects (id, org_id, name, created_at_ms) VALUES (${project.id}, ${orgId}, ${name}, ${now})`;
      const after = { id: project.id, name };
      await audit({ orgId, actor, action: 'project.create', target: `project:${project.id}`, before: null, after });
      return project;
    });
  }

  async listProjects(actor: string, orgId: string): Promise<Project[]> {
    await memberOrg(this.sql, actor, orgId);
    return listProjectsOf(this.sql, orgId);
  }

  async setProjectAdmin(
    actor: string,
    projectId: string,
    input: { accountId: string; admin: boolean },
  ): Promise<Project> {
    checkId(input?.accountId, 'accountId');
    if (typeof input.admin !== 'boolean') throw invalidInput('admin must be true or false', 'admin');
    const { accountId, admin } = input;
    return this.tx(async (tx, audit) => {
      const { project, role } = await memberProject(tx, actor, projectId);
      requireManager(role, 'choose project admins');
      if ((await roleOf(tx, project.orgId, accountId)) === null) {
        throw new NotFoundError('not a member of this organization', { code: 'member_not_found', param: 'accountId' });
      }
      const was = project.adminAccountIds.includes(accountId);
      if (was !== admin) {
        if (admin) await tx`INSERT INTO project_admins (project_id, account_id) VALUES (${projectId}, ${accountId})`;
        else await tx`DELETE FROM project_admins WHERE project_id = ${projectId} AND account_id = ${accountId}`;
        const [before, after] = [was, admin].map((value) => ({ accountId, admin: value }));
        await audit({
          orgId: project.orgId,
          actor,
          action: 'project.admin',
          target: `project:${projectId}`,
          before,
          after,
        });
      }
      return (await readProject(tx, projectId))!;
    });
  }

  async createProjectKey(actor: string, input: CreateProjectKeyInput): Promise<CreatedKey> {
    checkId(input?.projectId, 'projectId');
    const secret = generateSecret();
    const id = randomUUID();
    await this.tx(async (tx, audit) => {
      const { org } = await memberProject(tx, actor, input.projectId);
      const { projectId, ...rest } = input;
      const keyInput = { ...rest, accountId: org.accountId, kind: 'INFERENCE' as const };
      validateKeyInput(keyInput);
      const project = { projectId, memberAccountId: actor };
      await insertKeyRows(tx, { id, secret, input: keyInput, nowMs: this.storage.clock(), project });
      const after = { keyId: id, projectId, memberAccountId: actor, name: input.name };
      await audit({ orgId: org.id, actor, action: 'project.key', target: `key:${id}`, before: null, after });
    });
    return { key: (await readKey(this.sql, id))!, secret };
  }

  async setBudget(actor: string, input: SetBudgetInput): Promise<Budget | null> {
    const scope = validateSetBudget(input);
    return this.tx(async (tx, audit) => {
      const { org, role } =
        scope === 'PROJECT'
          ? await memberProject(tx, actor, input.scopeId)
          : await memberOrg(tx, actor, input.scopeId, true);
      requireManager(role, 'set budgets');
      await lockFundingMutex(tx, org);
      const current = await readBudget(tx, input.scopeId, input.currency, input.period);
      const target = budgetTarget(input);
      if (input.amountNano === null) {
        if (!current) throw budgetNotFound();
        await tx`DELETE FROM budgets WHERE scope_id = ${input.scopeId} AND currency = ${input.currency}
          AND period = ${input.period}`;
        await audit({
          orgId: org.id,
          actor,
          action: 'budget.remove',
          target,
          before: budgetRecord(current),
          after: null,
        });
        return null;
      }
      const now = this.storage.clock();
      const next = nextBudget({ ...input, amountNano: input.amountNano }, scope, org.id, current, now);
      await writeBudget(tx, next);
      const before = current && budgetRecord(current);
      await audit({ orgId: org.id, actor, action: 'budget.set', target, before, after: budgetRecord(next) });
      return next;
    });
  }

  async reallocate(actor: string, input: ReallocateInput): Promise<{ from: Budget; to: Budget }> {
    validateReallocate(input);
    const { currency, period, amountNano } = input;
    return this.tx(async (tx, audit) => {
      const { project: from, org, role } = await memberProject(tx, actor, input.fromProjectId, 'fromProjectId');
      const to = await readProject(tx, input.toProjectId);
      if (!to || to.orgId !== from.orgId) throw projectNotFound('toProjectId');
      checkReallocate(role, from.adminAccountIds.includes(actor));
      await lockFundingMutex(tx, org);
      const fromBudget = await requireBudget(tx, from.id, currency, period);
      const intoBudget = await requireBudget(tx, to.id, currency, period);
      const now = this.storage.clock();
      const keys = periodKeysAt(now, this.storage.epochSeconds);
      const periodKey = period === 'EPOCH' ? keys.epochKey : keys.monthKey;
      const rows = await tx`SELECT * FROM budget_spend WHERE scope_id = ${from.id} AND period_key = ${periodKey}`;
      const unused = unusedOf(fromBudget, new SpendIndex(rows).of(from.id, periodKey));
      const moved = reallocated(fromBudget, intoBudget, amountNano, unused, now);
      await writeBudget(tx, moved.from);
      await writeBudget(tx, moved.to);
      await audit({
        orgId: org.id,
        actor,
        action: 'budget.reallocate',
        target: `reallocate:${from.id}:${to.id}:${currency}:${period}`,
        before: { from: budgetRecord(fromBudget), to: budgetRecord(intoBudget) },
        after: { from: budgetRecord(moved.from), to: budgetRecord(moved.to), amountNano: amountNano.toString() },
      });
      return moved;
    });
  }

  async orgTree(actor: string, orgId: string): Promise<OrgTree> {
    return postgresOrgTree(this.storage, actor, orgId);
  }

  async auditLog(
    actor: string,
    orgId: string,
    options: { afterId?: number; limit?: number } = {},
  ): Promise<AuditEntry[]> {
    const limit = auditPageSize(options.limit);
    const afterId = options.afterId ?? 0;
    if (!Number.isSafeInteger(afterId)) throw invalidInput('afterId must be an integer', 'afterId');
    await memberOrg(this.sql, actor, orgId);
    const rows = await this.sql`SELECT * FROM team_audit WHERE org_id = ${orgId} AND id > ${afterId}
      ORDER BY id LIMIT ${limit}`;
    return rows.map(toAuditEntry);
  }
}
