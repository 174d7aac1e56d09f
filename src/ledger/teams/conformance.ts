/**
 * The organizations, members, projects, budgets, reallocations and audit log every Ledger adapter must show
 * (TeamsLedger), with every permission rule of teamRules.ts. `describeLedgerConformance` (../conformance.ts) runs it
 * once per adapter.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { epochAt, monthAt } from '../../core/epoch.ts';
import { expectError, reserveOn, start, usd } from '../conformanceHelpers.ts';
import { type FakeClock, fakeClock } from '../testing/fakeClock.ts';
import type { LedgerHarness } from '../testing/harness.ts';
import type { Ledger } from '../types.ts';
import { budgetsAsReplayed, replayBudgets } from './auditReplay.ts';
import type { Budget, OrgTree, SetBudgetInput } from './teamsLedger.ts';

/** Every budget of a tree: the organization's and each project's. */
export function budgetsOfTree(tree: OrgTree): Budget[] {
  return [...tree.budgets, ...tree.projects.flatMap((p) => p.budgets)];
}

export function describeTeamsConformance(harness: LedgerHarness): void {
  describe.skipIf(harness.skipReason !== null)(`Ledger conformance: ${harness.name}: teams`, () => {
    let clock: FakeClock;
    let ledger: Ledger;

    beforeEach(async () => {
      clock = fakeClock(start);
      ledger = await harness.open(clock.now);
    });
    afterEach(async () => {
      await ledger.close();
    });

    const account = async (name: string) => (await ledger.createAccount({ name })).id;

    /** An organization with an OWNER, an ADMIN, two MEMBERs and two projects; `lead` administers project a. */
    async function team() {
      const [owner, admin, lead, member, outsider] = await Promise.all(
        ['owner', 'admin', 'lead', 'member', 'outsider'].map(account),
      );
      const org = await ledger.createOrg(owner!, { name: 'Acme' });
      await ledger.setMember(owner!, org.id, { accountId: admin!, role: 'ADMIN' });
      await ledger.setMember(owner!, org.id, { accountId: lead!, role: 'MEMBER' });
      await ledger.setMember(admin!, org.id, { accountId: member!, role: 'MEMBER' });
      const a = await ledger.createProject(admin!, org.id, { name: 'search' });
      clock.advance(1);
      const b = await ledger.createProject(owner!, org.id, { name: 'chat' });
      const led = await ledger.setProjectAdmin(admin!, a.id, { accountId: lead!, admin: true });
      return { org, owner: owner!, admin: admin!, lead: lead!, member: member!, outsider: outsider!, a: led, b };
    }

    const budget = (
      scopeId: string,
      amountNano: bigint | null,
      extra: Partial<SetBudgetInput> = {},
    ): SetBudgetInput => ({
      scopeId,
      currency: 'USD',
      period: 'EPOCH',
      amountNano,
      ...extra,
    });

    it('creates an organization with its own funding account, its creator as OWNER, and an audit entry', async () => {
      const owner = await account('owner');
      const org = await ledger.createOrg(owner, { name: '  Acme  ' });
      expect(org).toMatchObject({ name: 'Acme', createdAtMs: start });
      expect(org.id.startsWith('org_')).toBe(true);
      expect(org.accountId).not.toBe(owner);
      expect(await ledger.getAccount(org.accountId)).not.toBeNull();
      expect((await ledger.balance(org.accountId)).credits).toEqual({ availableNano: 0n, reservedNano: 0n });
      expect(await ledger.getOrg(owner, org.id)).toEqual(org);
      expect(await ledger.listOrgs(owner)).toEqual([org]);
      expect(await ledger.orgOfAccount(org.accountId)).toEqual(org);
      expect(await ledger.orgOfAccount(owner)).toBeNull();
      expect(await ledger.listMembers(owner, org.id)).toEqual([
        { orgId: org.id, accountId: owner, role: 'OWNER', addedAtMs: start },
      ]);
      const [entry] = await ledger.auditLog(owner, org.id);
      expect(entry).toMatchObject({ orgId: org.id, actorAccountId: owner, action: 'org.create', before: null });
      expect(entry!.target).toBe(`org:${org.id}`);
      expect(entry!.after).toMatchObject({ id: org.id, name: 'Acme', accountId: org.accountId });
    });

    it('refuses bad organization input and unknown actors, changing nothing', async () => {
      const owner = await account('owner');
      for (const name of ['', '   ', 'x'.repeat(101)]) {
        await expectError(ledger.createOrg(owner, { name }), 400, 'invalid_request', 'name');
      }
      await expectError(ledger.createOrg('nobody', { name: 'x' }), 404, 'account_not_found');
      expect(await ledger.listOrgs(owner)).toEqual([]);
    });

    it('hides an organization from non-members: 404 for its tree, usage, members, projects and audit log', async () => {
      const { org, outsider, a } = await team();
      const other = await ledger.createOrg(outsider, { name: 'Other' });
      for (const read of [
        () => ledger.getOrg(outsider, org.id),
        () => ledger.orgTree(outsider, org.id),
        () => ledger.auditLog(outsider, org.id),
        () => ledger.listMembers(outsider, org.id),
        () => ledger.listProjects(outsider, org.id),
        () => ledger.createProject(outsider, org.id, { name: 'p' }),
        () => ledger.setMember(outsider, org.id, { accountId: outsider, role: 'OWNER' }),
        () => ledger.removeMember(outsider, org.id, outsider),
        () => ledger.orgTree(outsider, 'org_missing'),
      ]) {
        await expectError(read(), 404, 'organization_not_found');
      }
      for (const touch of [
        () => ledger.createProjectKey(outsider, { projectId: a.id, name: 'k' }),
        () => ledger.setProjectAdmin(outsider, a.id, { accountId: outsider, admin: true }),
        () => ledger.setBudget(outsider, budget(a.id, 1n)),
      ]) {
        await expectError(touch(), 404, 'project_not_found');
      }
      await expectError(ledger.setBudget(outsider, budget(org.id, 1n)), 404, 'organization_not_found');
      expect((await ledger.listOrgs(outsider)).map((o) => o.id)).toEqual([other.id]);
    });

    it('lets every member read the organization, and lists the orgs an account belongs to', async () => {
      const { org, member, owner, a, b } = await team();
      expect((await ledger.getOrg(member, org.id)).id).toBe(org.id);
      expect((await ledger.listProjects(member, org.id)).map((p) => p.name)).toEqual(['search', 'chat']);
      const members = await ledger.listMembers(member, org.id);
      expect(members.map((m) => m.role).sort()).toEqual(['ADMIN', 'MEMBER', 'MEMBER', 'OWNER']);
      expect((await ledger.auditLog(member, org.id)).length).toBeGreaterThan(0);
      const tree = await ledger.orgTree(member, org.id);
      expect(tree.projects.map((p) => p.project.id)).toEqual([a.id, b.id]);
      clock.advance(1);
      const second = await ledger.createOrg(member, { name: 'Side' });
      expect((await ledger.listOrgs(member)).map((o) => o.id)).toEqual([org.id, second.id]);
      expect((await ledger.listOrgs(owner)).map((o) => o.id)).toEqual([org.id]);
    });

    it('lets OWNERs and ADMINs manage members, ADMINs never the OWNER role, and keeps one OWNER', async () => {
      const { org, owner, admin, member, outsider } = await team();
      await expectError(ledger.setMember(member, org.id, { accountId: outsider, role: 'MEMBER' }), 403, 'forbidden');
      await expectError(ledger.setMember(admin, org.id, { accountId: outsider, role: 'OWNER' }), 403, 'owner_required');
      await expectError(ledger.setMember(admin, org.id, { accountId: owner, role: 'MEMBER' }), 403, 'owner_required');
      await expectError(ledger.removeMember(admin, org.id, owner), 403, 'owner_required');
      await expectError(ledger.setMember(owner, org.id, { accountId: owner, role: 'ADMIN' }), 409, 'last_owner');
      await expectError(ledger.removeMember(owner, org.id, owner), 409, 'last_owner');
      await expectError(ledger.removeMember(member, org.id, admin), 403, 'forbidden');
      await expectError(ledger.removeMember(owner, org.id, outsider), 404, 'member_not_found');
      await expectError(
        ledger.setMember(owner, org.id, { accountId: 'nobody', role: 'MEMBER' }),
        404,
        'account_not_found',
      );
      await expectError(
        ledger.setMember(owner, org.id, { accountId: outsider, role: 'KING' as never }),
        400,
        'invalid_request',
        'role',
      );
      await expectError(
        ledger.setMember(owner, org.id, { accountId: org.accountId, role: 'MEMBER' }),
        400,
        'invalid_request',
        'accountId',
      );
      const auditBefore = await ledger.auditLog(owner, org.id);
      // Setting the role a member has already changes nothing and logs nothing.
      expect((await ledger.setMember(admin, org.id, { accountId: member, role: 'MEMBER' })).role).toBe('MEMBER');
      expect(await ledger.auditLog(owner, org.id)).toEqual(auditBefore);

      const promoted = await ledger.setMember(admin, org.id, { accountId: member, role: 'ADMIN' });
      expect(promoted).toMatchObject({ orgId: org.id, accountId: member, role: 'ADMIN' });
      await ledger.setMember(owner, org.id, { accountId: admin, role: 'OWNER' });
      await ledger.setMember(admin, org.id, { accountId: owner, role: 'MEMBER' });
      const log = await ledger.auditLog(admin, org.id);
      expect(log.slice(-3).map((e) => [e.action, e.target, e.before, e.after])).toEqual([
        [
          'member.role',
          `member:${member}`,
          { accountId: member, role: 'MEMBER' },
          { accountId: member, role: 'ADMIN' },
        ],
        ['member.role', `member:${admin}`, { accountId: admin, role: 'ADMIN' }, { accountId: admin, role: 'OWNER' }],
        ['member.role', `member:${owner}`, { accountId: owner, role: 'OWNER' }, { accountId: owner, role: 'MEMBER' }],
      ]);
      await expectError(ledger.createProject(owner, org.id, { name: 'p' }), 403, 'forbidden');
    });

    it('keeps one OWNER when two OWNERs demote or remove each other at once', async () => {
      const { org, owner, admin } = await team();
      await ledger.setMember(owner, org.id, { accountId: admin, role: 'OWNER' });
      const demotions = await Promise.allSettled([
        ledger.setMember(owner, org.id, { accountId: admin, role: 'MEMBER' }),
        ledger.setMember(admin, org.id, { accountId: owner, role: 'MEMBER' }),
      ]);
      expect(demotions.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      // The loser is refused as the rules say of the state the winner left: no longer an OWNER, or the last one.
      const refused = demotions.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(['forbidden', 'last_owner']).toContain(refused.reason.code);
      const [survivor, demoted] = demotions[0]!.status === 'fulfilled' ? [owner, admin] : [admin, owner];
      expect((await ledger.listMembers(survivor, org.id)).filter((m) => m.role === 'OWNER')).toHaveLength(1);
      await ledger.setMember(survivor, org.id, { accountId: demoted, role: 'OWNER' });
      const removals = await Promise.allSettled([
        ledger.removeMember(owner, org.id, admin),
        ledger.removeMember(admin, org.id, owner),
      ]);
      expect(removals.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const remaining = removals[0]!.status === 'fulfilled' ? owner : admin;
      const owners = (await ledger.listMembers(remaining, org.id)).filter((m) => m.role === 'OWNER');
      expect(owners).toHaveLength(1);
    });

    it("stops a removed member's project keys at once, and only its keys", async () => {
      const { org, owner, member, lead, a, b } = await team();
      const t0 = clock.now();
      const mine = await ledger.createProjectKey(member, { projectId: a.id, name: 'mine' });
      const mine2 = await ledger.createProjectKey(member, { projectId: b.id, name: 'mine too' });
      const theirs = await ledger.createProjectKey(lead, { projectId: a.id, name: 'theirs' });
      await ledger.revokeKey(mine2.key.id);
      expect((await ledger.authenticate(mine.secret)).id).toBe(mine.key.id);
      // The organization's account pays for its project keys.
      await ledger.addFunds({
        accountId: org.accountId,
        source: 'CREDITS',
        amountNano: usd(1),
        reference: 'org-credits',
      });
      const paid = await reserveOn(ledger, org.accountId, 1n, { keyId: mine.key.id });
      expect(paid.reservation.accountId).toBe(org.accountId);
      clock.advance(5);
      expect(await ledger.removeMember(owner, org.id, member)).toEqual({ revokedKeys: 1 });
      await expectError(ledger.authenticate(mine.secret), 401, 'api_key_revoked');
      await expectError(reserveOn(ledger, org.accountId, 1n, { keyId: mine.key.id }), 401, 'api_key_revoked');
      expect((await ledger.getKey(mine.key.id))?.revokedAtMs).toBe(t0 + 5);
      expect((await ledger.getKey(mine2.key.id))?.revokedAtMs).toBe(t0);
      expect((await ledger.authenticate(theirs.secret)).id).toBe(theirs.key.id);
      await expectError(ledger.orgTree(member, org.id), 404, 'organization_not_found');
      await expectError(ledger.createProjectKey(member, { projectId: a.id, name: 'again' }), 404, 'project_not_found');
      const [last] = (await ledger.auditLog(owner, org.id)).slice(-1);
      expect(last).toMatchObject({
        action: 'member.remove',
        target: `member:${member}`,
        before: { accountId: member, role: 'MEMBER' },
        after: null,
      });
      // A removed project admin loses the project with its membership.
      await ledger.removeMember(owner, org.id, lead);
      const tree = await ledger.orgTree(owner, org.id);
      expect(tree.projects[0]!.project.adminAccountIds).toEqual([]);
    });

    it('creates projects (OWNER, ADMIN) and project admins (members only), with audit entries', async () => {
      const { org, owner, admin, member, lead, outsider, a } = await team();
      expect(a).toMatchObject({ orgId: org.id, name: 'search', adminAccountIds: [lead], createdAtMs: start });
      expect(a.id.startsWith('prj_')).toBe(true);
      await expectError(ledger.createProject(member, org.id, { name: 'mine' }), 403, 'forbidden');
      await expectError(ledger.createProject(lead, org.id, { name: 'mine' }), 403, 'forbidden');
      await expectError(ledger.createProject(admin, org.id, { name: 'search' }), 409, 'project_exists');
      await expectError(ledger.createProject(admin, org.id, { name: '' }), 400, 'invalid_request', 'name');
      await expectError(ledger.setProjectAdmin(lead, a.id, { accountId: member, admin: true }), 403, 'forbidden');
      await expectError(
        ledger.setProjectAdmin(admin, a.id, { accountId: outsider, admin: true }),
        404,
        'member_not_found',
      );
      await expectError(
        ledger.setProjectAdmin(admin, 'prj_missing', { accountId: member, admin: true }),
        404,
        'project_not_found',
      );
      const both = await ledger.setProjectAdmin(owner, a.id, { accountId: member, admin: true });
      expect(both.adminAccountIds.sort()).toEqual([lead, member].sort());
      const one = await ledger.setProjectAdmin(owner, a.id, { accountId: lead, admin: false });
      expect(one.adminAccountIds).toEqual([member]);
      expect((await ledger.listProjects(member, org.id))[0]!.adminAccountIds).toEqual([member]);
      const log = await ledger.auditLog(owner, org.id);
      expect(log.filter((e) => e.action === 'project.create').map((e) => e.target)).toEqual([
        `project:${a.id}`,
        expect.stringMatching(/^project:prj_/),
      ]);
      expect(log.slice(-1)[0]).toMatchObject({
        action: 'project.admin',
        target: `project:${a.id}`,
        before: { accountId: lead, admin: true },
        after: { accountId: lead, admin: false },
      });
    });

    it("makes project keys on the organization's account, for any member, listed in the tree", async () => {
      const { org, member, a, b, owner } = await team();
      const created = await ledger.createProjectKey(member, {
        projectId: a.id,
        name: 'ci',
        limits: [{ currency: 'USD', period: 'EPOCH', amountNano: usd(1) }],
      });
      expect(created.key).toMatchObject({
        accountId: org.accountId,
        kind: 'INFERENCE',
        name: 'ci',
        projectId: a.id,
        memberAccountId: member,
      });
      expect((await ledger.authenticate(created.secret)).projectId).toBe(a.id);
      expect((await ledger.listKeys(org.accountId)).map((k) => k.id)).toEqual([created.key.id]);
      await expectError(ledger.createProjectKey(member, { projectId: a.id, name: '' }), 400, 'invalid_request');
      await expectError(
        ledger.createProjectKey(member, { projectId: 'prj_nope', name: 'k' }),
        404,
        'project_not_found',
      );
      const tree = await ledger.orgTree(owner, org.id);
      expect(tree.projects.map((p) => [p.project.id, p.keyIds])).toEqual([
        [a.id, [created.key.id]],
        [b.id, []],
      ]);
      expect((await ledger.auditLog(owner, org.id)).slice(-1)[0]).toMatchObject({
        action: 'project.key',
        target: `key:${created.key.id}`,
        actorAccountId: member,
        after: { keyId: created.key.id, projectId: a.id, memberAccountId: member, name: 'ci' },
      });
    });

    it('sets, updates and removes budgets: OWNERs and ADMINs only, with before and after in the audit log', async () => {
      const { org, owner, admin, a } = await team();
      const t0 = clock.now();
      const set = await ledger.setBudget(admin, budget(a.id, usd(10)));
      expect(set).toEqual({
        scopeId: a.id,
        scope: 'PROJECT',
        orgId: org.id,
        currency: 'USD',
        period: 'EPOCH',
        amountNano: usd(10),
        alertThresholds: [50, 80, 100],
        updatedAtMs: t0,
      });
      clock.advance(10);
      await ledger.setBudget(owner, budget(a.id, usd(20), { alertThresholds: [90] }));
      const kept = await ledger.setBudget(owner, budget(a.id, usd(5)));
      expect(kept).toMatchObject({ amountNano: usd(5), alertThresholds: [90], updatedAtMs: t0 + 10 });
      const orgBudget = await ledger.setBudget(owner, budget(org.id, usd(100), { currency: 'TOTAL', period: 'MONTH' }));
      expect(orgBudget).toMatchObject({ scope: 'ORGANIZATION', scopeId: org.id, orgId: org.id });
      expect(await ledger.setBudget(owner, budget(a.id, null))).toBeNull();
      await expectError(ledger.setBudget(owner, budget(a.id, null)), 404, 'budget_not_found');
      const log = (await ledger.auditLog(owner, org.id)).filter((e) => e.action.startsWith('budget.'));
      expect(log.map((e) => [e.action, e.target])).toEqual([
        ['budget.set', `budget:${a.id}:USD:EPOCH`],
        ['budget.set', `budget:${a.id}:USD:EPOCH`],
        ['budget.set', `budget:${a.id}:USD:EPOCH`],
        ['budget.set', `budget:${org.id}:TOTAL:MONTH`],
        ['budget.remove', `budget:${a.id}:USD:EPOCH`],
      ]);
      expect(log[1]!.before).toMatchObject({ amountNano: usd(10).toString(), alertThresholds: [50, 80, 100] });
      expect(log[1]!.after).toMatchObject({ amountNano: usd(20).toString(), alertThresholds: [90] });
      expect(log[4]!.after).toBeNull();
      const tree = await ledger.orgTree(owner, org.id);
      expect(budgetsOfTree(tree).map((b) => b.scopeId)).toEqual([org.id]);
      expect(replayBudgets(await ledger.auditLog(owner, org.id))).toEqual(budgetsAsReplayed(budgetsOfTree(tree)));
    });

    it('lets no MEMBER or project admin set a budget, not even raise its own project', async () => {
      const { org, admin, member, lead, a } = await team();
      await ledger.setBudget(admin, budget(a.id, usd(1)));
      for (const actor of [member, lead]) {
        await expectError(ledger.setBudget(actor, budget(a.id, usd(1000))), 403, 'forbidden');
        await expectError(ledger.setBudget(actor, budget(a.id, null)), 403, 'forbidden');
        await expectError(ledger.setBudget(actor, budget(org.id, usd(1000))), 403, 'forbidden');
      }
      const tree = await ledger.orgTree(member, org.id);
      expect(budgetsOfTree(tree).map((b) => b.amountNano)).toEqual([usd(1)]);
    });

    it('refuses bad budget input with 400 and changes nothing, audit log included', async () => {
      const { org, owner, a } = await team();
      await ledger.setBudget(owner, budget(a.id, usd(1)));
      const auditBefore = await ledger.auditLog(owner, org.id);
      const bad: [Partial<SetBudgetInput>, string][] = [
        [{ amountNano: -1n }, 'amountNano'],
        [{ amountNano: 1 as never }, 'amountNano'],
        [{ amountNano: 2n ** 63n }, 'amountNano'],
        [{ currency: 'EUR' as never }, 'currency'],
        [{ period: 'LIFETIME' as never }, 'period'],
        [{ scopeId: 'acct_x' }, 'scopeId'],
        [{ alertThresholds: [80, 50] }, 'alertThresholds'],
        [{ alertThresholds: [50, 50] }, 'alertThresholds'],
        [{ alertThresholds: [0] }, 'alertThresholds'],
        [{ alertThresholds: [1001] }, 'alertThresholds'],
        [{ alertThresholds: [1.5] }, 'alertThresholds'],
      ];
      for (const [patch, param] of bad) {
        await expectError(
          ledger.setBudget(owner, { ...budget(a.id, usd(2)), ...patch }),
          400,
          'invalid_request',
          param,
        );
      }
      await expectError(ledger.setBudget(owner, budget('prj_missing', 1n)), 404, 'project_not_found');
      await expectError(ledger.setBudget(owner, budget('org_missing', 1n)), 404, 'organization_not_found');
      expect(await ledger.auditLog(owner, org.id)).toEqual(auditBefore);
      expect(budgetsOfTree(await ledger.orgTree(owner, org.id)).map((b) => b.amountNano)).toEqual([usd(1)]);
    });

    it('reallocates unused budget between projects atomically, with one audit entry', async () => {
      const { org, owner, admin, lead, a, b } = await team();
      await ledger.setBudget(admin, budget(a.id, usd(10)));
      await ledger.setBudget(admin, budget(b.id, usd(4)));
      const t0 = clock.now();
      clock.advance(7);
      const moved = await ledger.reallocate(lead, {
        fromProjectId: a.id,
        toProjectId: b.id,
        currency: 'USD',
        period: 'EPOCH',
        amountNano: usd(3),
      });
      expect(moved.from).toMatchObject({ scopeId: a.id, amountNano: usd(7), updatedAtMs: t0 + 7 });
      expect(moved.to).toMatchObject({ scopeId: b.id, amountNano: usd(7), updatedAtMs: t0 + 7 });
      const [entry] = (await ledger.auditLog(owner, org.id)).slice(-1);
      expect(entry).toMatchObject({
        action: 'budget.reallocate',
        actorAccountId: lead,
        target: `reallocate:${a.id}:${b.id}:USD:EPOCH`,
        before: { from: { amountNano: usd(10).toString() }, to: { amountNano: usd(4).toString() } },
        after: { from: { amountNano: usd(7).toString() }, to: { amountNano: usd(7).toString() } },
      });
      // All of what is left, by an OWNER; then nothing more.
      await ledger.reallocate(owner, { ...realloc(a.id, b.id), amountNano: usd(7) });
      await expectError(ledger.reallocate(owner, { ...realloc(a.id, b.id), amountNano: 1n }), 409, 'budget_in_use');
      const tree = await ledger.orgTree(owner, org.id);
      expect(budgetsOfTree(tree).map((x) => [x.scopeId, x.amountNano])).toEqual([
        [a.id, 0n],
        [b.id, usd(14)],
      ]);
      expect(replayBudgets(await ledger.auditLog(owner, org.id))).toEqual(budgetsAsReplayed(budgetsOfTree(tree)));
    });

    const realloc = (from: string, to: string) => ({
      fromProjectId: from,
      toProjectId: to,
      currency: 'USD' as const,
      period: 'EPOCH' as const,
      amountNano: 1n,
    });

    it('refuses reallocations out of bounds or without the right, changing nothing', async () => {
      const { org, owner, admin, member, lead, outsider, a, b } = await team();
      const other = await ledger.createOrg(outsider, { name: 'Other' });
      const foreign = await ledger.createProject(outsider, other.id, { name: 'x' });
      await ledger.setBudget(outsider, budget(foreign.id, usd(5)));
      const c = await ledger.createProject(admin, org.id, { name: 'empty' });
      await ledger.setBudget(admin, budget(a.id, usd(10)));
      await ledger.setBudget(admin, budget(b.id, usd(4)));
      await ledger.setBudget(admin, budget(a.id, usd(9), { period: 'MONTH' }));
      const auditBefore = await ledger.auditLog(owner, org.id);
      await expectError(ledger.reallocate(member, realloc(a.id, b.id)), 403, 'forbidden');
      await expectError(ledger.reallocate(lead, realloc(b.id, a.id)), 403, 'forbidden');
      await expectError(ledger.reallocate(outsider, realloc(a.id, b.id)), 404, 'project_not_found');
      await expectError(
        ledger.reallocate(owner, { ...realloc(a.id, b.id), amountNano: usd(11) }),
        409,
        'budget_in_use',
      );
      await expectError(ledger.reallocate(owner, { ...realloc(a.id, b.id), amountNano: 0n }), 400, 'invalid_request');
      await expectError(ledger.reallocate(owner, { ...realloc(a.id, b.id), amountNano: -1n }), 400, 'invalid_request');
      await expectError(ledger.reallocate(owner, realloc(a.id, a.id)), 400, 'invalid_request', 'toProjectId');
      await expectError(
        ledger.reallocate(owner, { ...realloc(a.id, b.id), currency: 'DIEM' }),
        404,
        'budget_not_found',
      );
      await expectError(ledger.reallocate(owner, { ...realloc(a.id, b.id), period: 'MONTH' }), 404, 'budget_not_found');
      await expectError(ledger.reallocate(owner, realloc(a.id, c.id)), 404, 'budget_not_found');
      await expectError(ledger.reallocate(owner, realloc(a.id, foreign.id)), 404, 'project_not_found', 'toProjectId');
      await expectError(
        ledger.reallocate(outsider, realloc(foreign.id, a.id)),
        404,
        'project_not_found',
        'toProjectId',
      );
      await expectError(ledger.reallocate(owner, realloc('prj_missing', a.id)), 404, 'project_not_found');
      expect(await ledger.auditLog(owner, org.id)).toEqual(auditBefore);
      const amounts = budgetsOfTree(await ledger.orgTree(owner, org.id)).map((x) => x.amountNano);
      expect(amounts.sort()).toEqual([usd(10), usd(4), usd(9)].sort());
    });

    it('shows the tree with budgets and usage in the current periods', async () => {
      const { org, owner, member, a, b } = await team();
      await ledger.setBudget(owner, budget(a.id, usd(10), { currency: 'TOTAL' }));
      await ledger.setBudget(owner, budget(org.id, usd(50), { period: 'MONTH' }));
      const tree = await ledger.orgTree(member, org.id);
      const epochKey = `EPOCH:${epochAt(start)}`;
      const monthKey = `MONTH:${monthAt(start)}`;
      expect(tree.organization).toEqual(org);
      expect(tree.members).toHaveLength(4);
      expect(tree.budgets).toEqual([
        expect.objectContaining({
          scopeId: org.id,
          periodKey: monthKey,
          amountNano: usd(50),
          spentNano: 0n,
          reservedNano: 0n,
          remainingNano: usd(50),
        }),
      ]);
      const zero = { DIEM: 0n, USD: 0n };
      expect(tree.spend).toEqual({ scopeId: org.id, epochKey, monthKey, epochSpentNano: zero, monthSpentNano: zero });
      expect(tree.projects[0]!.budgets).toEqual([
        expect.objectContaining({ scopeId: a.id, currency: 'TOTAL', periodKey: epochKey, remainingNano: usd(10) }),
      ]);
      expect(tree.projects[1]!.spend.scopeId).toBe(b.id);
      await expectError(ledger.orgTree(member, 'org_missing'), 404, 'organization_not_found');
    });

    it('pages the audit log after an id, oldest first, and validates the page size', async () => {
      const { org, owner } = await team();
      const all = await ledger.auditLog(owner, org.id);
      expect(all.map((e) => e.action)).toEqual([
        'org.create',
        'member.add',
        'member.add',
        'member.add',
        'project.create',
        'project.create',
        'project.admin',
      ]);
      expect(all.every((e, i) => i === 0 || e.id > all[i - 1]!.id)).toBe(true);
      expect(await ledger.auditLog(owner, org.id, { afterId: all[2]!.id, limit: 2 })).toEqual(all.slice(3, 5));
      await expectError(ledger.auditLog(owner, org.id, { limit: 0 }), 400, 'invalid_request', 'limit');
      await expectError(ledger.auditLog(owner, org.id, { limit: 1001 }), 400, 'invalid_request', 'limit');
    });
  });
}
