/**
 * The SQLite adapter of teams. Every change and its audit entry run in one transaction (`tx`); SQLite serialises
 * writers, so a reallocation reads the source budget's use and moves it with no reservation in between.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/epoch.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import { validateKeyInput } from '../accounts/accountRules.ts';
import type { CreatedKey } from '../accounts/accountsLedger.ts';
import type { SqliteAccounts } from '../accounts/sqliteAccounts.ts';
import { generateSecret } from '../apiKeySecret.ts';
import { invalidInput } from '../inputChecks.ts';
import type { PreparedCatalog, SqliteStorage } from '../sqlite/sqliteStorage.ts';
import { budgetRecord, budgetTarget } from './auditReplay.ts';
import { teamsStatements } from './sqliteTeamsStatements.ts';
import {
  adminsByProject,
  assembleTree,
  auditJson,
  keysByProject,
  newOrgId,
  newProjectId,
  periodKeysAt,
  SpendIndex,
  toAuditEntry,
  toBudget,
  toMember,
  toOrg,
  toProject,
} from './teamRows.ts';
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
  orgNotFound,
  projectNotFound,
  reallocated,
  requireManager,
  requireMember,
  unusedOf,
  validateReallocate,
  validateSetBudget,
} from './teamRules.ts';
import type {
  AuditAction,
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

export class SqliteTeams implements TeamsLedger {
  private readonly storage: SqliteStorage;
  private readonly accounts: SqliteAccounts;
  private readonly clock: Clock;
  private readonly epochSeconds: number;
  private readonly stmt: PreparedCatalog<typeof teamsStatements>;

  constructor(storage: SqliteStorage, accounts: SqliteAccounts, clock: Clock, epochSeconds: number) {
    this.storage = storage;
    this.accounts = accounts;
    this.clock = clock;
    this.epochSeconds = epochSeconds;
    this.stmt = storage.prepare(teamsStatements);
  }

  async createOrg(actor: string, input: { name: string }): Promise<Organization> {
    const name = checkName(input?.name);
    const now = this.clock();
    const org: Organization = { id: newOrgId(now), name, accountId: randomUUID(), createdAtMs: now };
    this.storage.tx(() => {
      this.accounts.requireAccount(actor);
      this.accounts.insertAccount({ id: org.accountId, name: `organization ${name}`, createdAtMs: now });
      this.stmt.insertOrg.run(org.id, org.name, org.accountId, now);
      this.stmt.insertMember.run(org.id, actor, 'OWNER', now);
      this.audit(org.id, actor, 'org.create', `org:${org.id}`, null, { ...org, ownerAccountId: actor });
    });
    return org;
  }

  async getOrg(actor: string, orgId: string): Promise<Organization> {
    return this.memberOrg(actor, orgId).org;
  }

  async listOrgs(actor: string): Promise<Organization[]> {
    return this.stmt.orgsOfMember.all(actor).map(toOrg);
  }

  async orgOfAccount(accountId: string): Promise<Organization | null> {
    const row = this.stmt.orgOfAccount.get(accountId);
    return row ? toOrg(row) : null;
  }

  async setMember(actor: string, orgId: string, input: { accountId: string; role: OrgRole }): Promise<OrgMember> {
    checkId(input?.accountId, 'accountId');
    const role = checkRole(input.role);
    return this.storage.tx(() => {
      const current = this.roleOf(orgId, input.accountId);
      const action = decideSetMember(this.roleOf(orgId, actor), current, role, this.owners(orgId));
      if (this.orgRow(orgId)?.accountId === input.accountId) {
        throw invalidInput("an organization's own account cannot be its member", 'accountId');
      }
      this.accounts.requireAccount(input.accountId);
      const target = `member:${input.accountId}`;
      if (action === 'member.add') this.stmt.insertMember.run(orgId, input.accountId, role, this.clock());
      if (action === 'member.role') this.stmt.updateRole.run(role, orgId, input.accountId);
      if (action !== null) {
        const before = current === null ? null : { accountId: input.accountId, role: current };
        this.audit(orgId, actor, action, target, before, { accountId: input.accountId, role });
      }
      return toMember(this.memberRow(orgId, input.accountId)!);
    });
  }

  async removeMember(actor: string, orgId: string, accountId: string): Promise<{ revokedKeys: number }> {
    checkId(accountId, 'accountId');
    return this.storage.tx(() => {
      const current = this.roleOf(orgId, accountId);
      checkRemoveMember(this.roleOf(orgId, actor), current, this.owners(orgId));
      const org = this.orgRow(orgId)!;
      this.stmt.deleteMember.run(orgId, accountId);
      this.stmt.deleteAdminsOfMember.run(orgId, accountId);
      const revoked = this.stmt.revokeMemberKeys.run(org.accountId, accountId, this.clock());
      const revokedKeys = Number(revoked.changes);
      this.audit(orgId, actor, 'member.remove', `member:${accountId}`, { accountId, role: current }, null);
      return { revokedKeys };
    });
  }

  async listMembers(actor: string, orgId: string): Promise<OrgMember[]> {
    this.memberOrg(actor, orgId);
    return this.stmt.members.all(orgId).map(toMember);
  }

  async createProject(actor: string, orgId: string, input: { name: string }): Promise<Project> {
    const name = checkName(input?.name);
    return this.storage.tx(() => {
      requireManager(this.roleOf(orgId, actor), 'create projects');
      if (this.stmt.projectByName.get(orgId, name)) {
        throw new ConflictError('a project of this name exists', { code: 'project_exists', param: 'name' });
      }
      const now = this.clock();
      const project: Project = { id: newProjectId(now), orgId, name, adminAccountIds: [], createdAtMs: now };
      this.stmt.insertProject.run(project.id, orgId, name, now);
      this.audit(orgId, actor, 'project.create', `project:${project.id}`, null, { id: project.id, name });
      return project;
    });
  }

  async listProjects(actor: string, orgId: string): Promise<Project[]> {
    this.memberOrg(actor, orgId);
    const admins = adminsByProject(this.stmt.adminsOfOrg.all(orgId));
    return this.stmt.projects.all(orgId).map((row) => toProject(row, admins.get(row.id as string) ?? []));
  }

  async setProjectAdmin(
    actor: string,
    projectId: string,
    input: { accountId: string; admin: boolean },
  ): Promise<Project> {
    checkId(input?.accountId, 'accountId');
    if (typeof input.admin !== 'boolean') throw invalidInput('admin must be true or false', 'admin');
    return this.storage.tx(() => {
      const { project, role } = this.memberProject(actor, projectId);
      requireManager(role, 'choose project admins');
      if (this.roleOf(project.orgId, input.accountId) === null) {
        throw new NotFoundError('not a member of this organization', { code: 'member_not_found', param: 'accountId' });
      }
      const was = this.stmt.isAdmin.get(projectId, input.accountId) !== undefined;
      if (was !== input.admin) {
        if (input.admin) this.stmt.insertAdmin.run(projectId, input.accountId);
        else this.stmt.deleteAdmin.run(projectId, input.accountId);
        const [before, after] = [was, input.admin].map((admin) => ({ accountId: input.accountId, admin }));
        this.audit(project.orgId, actor, 'project.admin', `project:${projectId}`, before, after);
      }
      return this.readProject(projectId)!;
    });
  }

  async createProjectKey(actor: string, input: CreateProjectKeyInput): Promise<CreatedKey> {
    checkId(input?.projectId, 'projectId');
    const secret = generateSecret();
    const id = randomUUID();
    this.storage.tx(() => {
      const { project } = this.memberProject(actor, input.projectId);
      const org = this.orgRow(project.orgId)!;
      const { projectId, ...rest } = input;
      const keyInput = { ...rest, accountId: org.accountId, kind: 'INFERENCE' as const };
      validateKeyInput(keyInput);
      this.accounts.insertKey(id, secret, keyInput, { projectId, memberAccountId: actor });
      const after = { keyId: id, projectId, memberAccountId: actor, name: input.name };
      this.audit(org.id, actor, 'project.key', `key:${id}`, null, after);
    });
    return { key: this.accounts.readKey(id)!, secret };
  }

  async setBudget(actor: string, input: SetBudgetInput): Promise<Budget | null> {
    const scope = validateSetBudget(input);
    return this.storage.tx(() => {
      const { orgId, role } = this.scopeOwner(actor, input.scopeId, scope);
      requireManager(role, 'set budgets');
      const row = this.stmt.budget.get(input.scopeId, input.currency, input.period);
      const current = row ? toBudget(row) : null;
      const target = budgetTarget(input);
      if (input.amountNano === null) {
        if (!current) throw budgetNotFound();
        this.stmt.deleteBudget.run(input.scopeId, input.currency, input.period);
        this.audit(orgId, actor, 'budget.remove', target, budgetRecord(current), null);
        return null;
      }
      const next = nextBudget({ ...input, amountNano: input.amountNano }, scope, orgId, current, this.clock());
      this.writeBudget(next);
      this.audit(orgId, actor, 'budget.set', target, current && budgetRecord(current), budgetRecord(next));
      return next;
    });
  }

  async reallocate(actor: string, input: ReallocateInput): Promise<{ from: Budget; to: Budget }> {
    validateReallocate(input);
    return this.storage.tx(() => {
      const { project: from, role } = this.memberProject(actor, input.fromProjectId, 'fromProjectId');
      const to = this.readProject(input.toProjectId);
      if (!to || to.orgId !== from.orgId) throw projectNotFound('toProjectId');
      checkReallocate(role, from.adminAccountIds.includes(actor));
      const [fromBudget, intoBudget] = [from.id, to.id].map((scopeId) => {
        const row = this.stmt.budget.get(scopeId, input.currency, input.period);
        if (!row) throw budgetNotFound();
        return toBudget(row);
      }) as [Budget, Budget];
      const keys = periodKeysAt(this.clock(), this.epochSeconds);
      const periodKey = input.period === 'EPOCH' ? keys.epochKey : keys.monthKey;
      const spend = new SpendIndex(this.stmt.spendOfScope.all(from.id, periodKey)).of(from.id, periodKey);
      const moved = reallocated(fromBudget, intoBudget, input.amountNano, unusedOf(fromBudget, spend), this.clock());
      this.writeBudget(moved.from);
      this.writeBudget(moved.to);
      const record = (pair: { from: Budget; to: Budget }) => ({
        from: budgetRecord(pair.from),
        to: budgetRecord(pair.to),
      });
      const target = `reallocate:${from.id}:${to.id}:${input.currency}:${input.period}`;
      this.audit(from.orgId, actor, 'budget.reallocate', target, record({ from: fromBudget, to: intoBudget }), {
        ...record(moved),
        amountNano: input.amountNano.toString(),
      });
      return moved;
    });
  }

  async orgTree(actor: string, orgId: string): Promise<OrgTree> {
    const { org } = this.memberOrg(actor, orgId);
    const keys = periodKeysAt(this.clock(), this.epochSeconds);
    return assembleTree(
      {
        organization: org,
        members: this.stmt.members.all(orgId).map(toMember),
        projects: await this.listProjects(actor, orgId),
        budgets: this.stmt.budgetsOfOrg.all(orgId).map(toBudget),
        spend: new SpendIndex(this.stmt.spendOfOrg.all(orgId, keys.epochKey, keys.monthKey)),
        keyIds: keysByProject(this.stmt.keysOfOrg.all(org.accountId)),
      },
      keys,
    );
  }

  async auditLog(
    actor: string,
    orgId: string,
    options: { afterId?: number; limit?: number } = {},
  ): Promise<AuditEntry[]> {
    const limit = auditPageSize(options.limit);
    const afterId = options.afterId ?? 0;
    if (!Number.isSafeInteger(afterId)) throw invalidInput('afterId must be an integer', 'afterId');
    this.memberOrg(actor, orgId);
    return this.stmt.audit.all(orgId, afterId, limit).map(toAuditEntry);
  }

  // ── reads inside the transactions ────────────────────────────────────────────────────────────────────────────

  private orgRow(orgId: string): Organization | null {
    const row = this.stmt.org.get(orgId);
    return row ? toOrg(row) : null;
  }

  private roleOf(orgId: string, accountId: string): OrgRole | null {
    return ((this.stmt.role.get(orgId, accountId)?.role as OrgRole | undefined) ?? null) as OrgRole | null;
  }

  private memberRow(orgId: string, accountId: string) {
    return this.stmt.members.all(orgId).find((row) => row.account_id === accountId);
  }

  private owners(orgId: string): number {
    return Number(this.stmt.owners.get(orgId)!.n);
  }

  /** The organization and the actor's role in it; 404 unless the actor is a member. */
  private memberOrg(actor: string, orgId: string): { org: Organization; role: OrgRole } {
    const role = requireMember(this.roleOf(orgId, actor));
    const org = this.orgRow(orgId);
    if (!org) throw orgNotFound();
    return { org, role };
  }

  private readProject(projectId: string): Project | null {
    const row = this.stmt.project.get(projectId);
    if (!row) return null;
    return toProject(
      row,
      this.stmt.adminsOfProject.all(projectId).map((r) => r.account_id as string),
    );
  }

  /** The project and the actor's role in its organization; 404 `project_not_found` unless the actor is a member. */
  private memberProject(actor: string, projectId: string, param: string | null = null) {
    const project = this.readProject(projectId);
    const role = project ? this.roleOf(project.orgId, actor) : null;
    if (!project || role === null) throw projectNotFound(param);
    return { project, role };
  }

  /** The organization a budget's scope belongs to, and the actor's role in it (404 for non-members). */
  private scopeOwner(actor: string, scopeId: string, scope: Budget['scope']): { orgId: string; role: OrgRole } {
    if (scope === 'PROJECT') {
      const { project, role } = this.memberProject(actor, scopeId);
      return { orgId: project.orgId, role };
    }
    return { orgId: scopeId, role: this.memberOrg(actor, scopeId).role };
  }

  private writeBudget(budget: Budget): void {
    this.stmt.upsertBudget.run(
      budget.scopeId,
      budget.scope,
      budget.orgId,
      budget.currency,
      budget.period,
      budget.amountNano,
      JSON.stringify(budget.alertThresholds),
      budget.updatedAtMs,
    );
  }

  private audit(orgId: string, actor: string, action: AuditAction, target: string, before: unknown, after: unknown) {
    this.stmt.insertAudit.run(orgId, actor, action, target, auditJson(before), auditJson(after), this.clock());
  }
}
