/** The SQL of the SQLite metering adapter: the hot path (reserve, settle, void, expire), prepared once. */
export const reservationColumns =
  'id, account_id, key_id, idempotency_key, request_id, request_hash, owner, model, source, epoch, month, amount_nano, status, charged_nano, loss_nano, created_at_ms, expires_at_ms, finished_at_ms';

/** A reservation with what its release needs: whether its key counts it, and its project and organization. */
const holdColumns = `${reservationColumns}, counted, project_id, org_id`;

export const meteringStatements = {
  sources: `SELECT source, available_nano, reserved_nano, 0 AS allowance_nano FROM balances WHERE account_id = ?1
    UNION ALL SELECT 'DIEM', allowance_nano - spent_nano - reserved_nano, reserved_nano, allowance_nano
      FROM diem_allowances WHERE account_id = ?1 AND epoch = ?2`,
  holdBalance: `UPDATE balances SET available_nano = available_nano - ?1, reserved_nano = reserved_nano + ?1
    WHERE account_id = ?2 AND source = ?3`,
  holdDiem: 'UPDATE diem_allowances SET reserved_nano = reserved_nano + ?1 WHERE account_id = ?2 AND epoch = ?3',
  releaseBalance: `UPDATE balances SET reserved_nano = reserved_nano - ?1, available_nano = available_nano + ?1 - ?2
    WHERE account_id = ?3 AND source = ?4`,
  releaseDiem: `UPDATE diem_allowances SET reserved_nano = reserved_nano - ?1, spent_nano = spent_nano + ?2
    WHERE account_id = ?3 AND epoch = ?4`,
  insertReservation: `INSERT INTO reservations (account_id, key_id, idempotency_key, request_id, request_hash, owner,
    model, source, epoch, month, amount_nano, status, created_at_ms, expires_at_ms, counted, project_id, org_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'RESERVED', ?, ?, ?, ?, ?)`,
  reservation: `SELECT ${holdColumns} FROM reservations WHERE id = ?`,
  response: 'SELECT response FROM reservations WHERE id = ?',
  // Everything a reserve reads about the account, in one statement: what each source has left, and the live or
  // settled reservation under this idempotency key, if any.
  reserveState: `SELECT
    (SELECT available_nano FROM balances WHERE account_id = ?1 AND source = 'CREDITS') AS credits,
    (SELECT available_nano FROM balances WHERE account_id = ?1 AND source = 'USD') AS usd,
    (SELECT allowance_nano - spent_nano - reserved_nano FROM diem_allowances WHERE account_id = ?1 AND epoch = ?2)
      AS diem,
    (SELECT id FROM reservations WHERE account_id = ?1 AND idempotency_key = ?3 AND released = 0) AS existing`,
  // The settle's state change and read in one step; no row: not live (the caller reads it to say why).
  settleReservation: `UPDATE reservations SET status = 'SETTLED', charged_nano = min(amount_nano, ?1),
    loss_nano = ?1 - min(amount_nano, ?1), finished_at_ms = ?2, response = ?4,
    price_sheet_hash = ?5 WHERE id = ?3 AND status = 'RESERVED'
    RETURNING ${holdColumns}`,
  finishUnpaid: 'UPDATE reservations SET status = ?, released = 1, finished_at_ms = ? WHERE id = ?',
  voidLoss: 'UPDATE reservations SET charged_nano = 0, loss_nano = ? WHERE id = ?',
  expiredReservations: `SELECT ${holdColumns} FROM reservations
    WHERE status = 'RESERVED' AND expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?`,
  renewHolds: `UPDATE reservations SET expires_at_ms = ?1
    WHERE owner = ?2 AND status = 'RESERVED' AND expires_at_ms < ?1`,
  holdsOfOthers: `SELECT ${holdColumns} FROM reservations
    WHERE status = 'RESERVED' AND (owner IS NULL OR owner <> ?) ORDER BY id`,
} as const;
