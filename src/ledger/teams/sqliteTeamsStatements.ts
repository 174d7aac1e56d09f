/** The SQL of the SQLite teams adapter (sqliteTeams.ts). */
export const teamsStatements = {
  insertOrg: 'INSERT INTO organizations (id, name, account_id, created_at_ms) VALUES (?, ?, ?, ?)',
  org: 'SELECT * FROM organizations WHERE id = ?',
  orgOfAccount: 'SELECT * FROM organizations WHERE account_id = ?',
  orgsOfMember: `SELECT o.* FROM organizations o JOIN org_members m ON m.org_id = o.id WHERE m.account_id = ?
    ORDER BY o.created_at_ms, o.id`,
  account: 'SELECT 1 FROM accounts WHERE id = ?',
  role: 'SELECT role FROM org_members WHERE org_id = ? AND account_id = ?',
  members: 'SELECT * FROM org_members WHERE org_id = ? ORDER BY added_at_ms, account_id',
  owners: "SELECT count(*) AS n FROM org_members WHERE org_id = ? AND role = 'OWNER'",
  insertMember: 'INSERT INTO org_members (org_id, account_id, role, added_at_ms) VALUES (?, ?, ?, ?)',
  updateRole: 'UPDATE org_members SET role = ? WHERE org_id = ? AND account_id = ?',
  deleteMember: 'DELETE FROM org_members WHERE org_id = ? AND account_id = ?',
  deleteAdminsOfMember: `DELETE FROM project_admins
    WHERE account_id = ?2 AND project_id IN (SELECT id FROM projects WHERE org_id = ?1)`,
  revokeMemberKeys: `UPDATE api_keys SET revoked_at_ms = ?3
    WHERE member_account_id = ?2 AND account_id = ?1 AND revoked_at_ms IS NULL`,
  insertProject: 'INSERT INTO projects (id, org_id, name, created_at_ms) VALUES (?, ?, ?, ?)',
  project: 'SELECT * FROM projects WHERE id = ?',
  projectByName: 'SELECT 1 FROM projects WHERE org_id = ? AND name = ?',
  projects: 'SELECT * FROM projects WHERE org_id = ? ORDER BY created_at_ms, id',
  adminsOfProject: 'SELECT project_id, account_id FROM project_admins WHERE project_id = ? ORDER BY account_id',
  adminsOfOrg: `SELECT a.project_id, a.account_id FROM project_admins a JOIN projects p ON p.id = a.project_id
    WHERE p.org_id = ? ORDER BY a.account_id`,
  isAdmin: 'SELECT 1 FROM project_admins WHERE project_id = ? AND account_id = ?',
  insertAdmin: 'INSERT OR IGNORE INTO project_admins (project_id, account_id) VALUES (?, ?)',
  deleteAdmin: 'DELETE FROM project_admins WHERE project_id = ? AND account_id = ?',
  keysOfOrg: `SELECT id, project_id FROM api_keys WHERE account_id = ? AND project_id IS NOT NULL
    ORDER BY created_at_ms, id`,
  budget: 'SELECT * FROM budgets WHERE scope_id = ? AND currency = ? AND period = ?',
  budgetsOfOrg: 'SELECT * FROM budgets WHERE org_id = ? ORDER BY scope_id, currency, period',
  upsertBudget: `INSERT INTO budgets (scope_id, scope, org_id, currency, period, amount_nano, thresholds, updated_at_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (scope_id, currency, period) DO UPDATE SET amount_nano = excluded.amount_nano,
      thresholds = excluded.thresholds, updated_at_ms = excluded.updated_at_ms`,
  deleteBudget: 'DELETE FROM budgets WHERE scope_id = ? AND currency = ? AND period = ?',
  spendOfScope: 'SELECT * FROM budget_spend WHERE scope_id = ? AND period_key = ?',
  spendOfOrg: `SELECT * FROM budget_spend WHERE period_key IN (?2, ?3)
    AND (scope_id = ?1 OR scope_id IN (SELECT id FROM projects WHERE org_id = ?1))`,
  insertAudit: `INSERT INTO team_audit (org_id, actor_account_id, action, target, before_json, after_json, at_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
  audit: 'SELECT * FROM team_audit WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?',
} as const;
