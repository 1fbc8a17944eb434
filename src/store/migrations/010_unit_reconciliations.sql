-- 010: a reconciliation per sales unit (issue 16, part 4). Each Vipps MSN
-- is settled in its own ledger, so a date has one reconciliation per
-- ledger (the key stays (ledger_id, ledger_date)); this says which unit's
-- sales it compared. NULL: every Vipps sale of the till (a till with one
-- sales unit, and every reconciliation made before units).
ALTER TABLE reconciliations ADD COLUMN msn TEXT;
