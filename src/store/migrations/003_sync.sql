-- 003: bookkeeping sync lanes and Vipps settlement reconciliations.
--
-- Items whose kind starts with 'sync.' go to the club's books (webhook,
-- PowerOffice Go, CSV). They are delivered strictly in order per kind by
-- their own worker, so the kiosk's worker never claims them; the partial
-- indexes keep both claims cheap with 10,000 items waiting for a receiver
-- that has been down all day. The old index over every pending item would
-- tempt the planner into walking those thousands; it goes.
DROP INDEX outbox_due;
CREATE INDEX outbox_due_kiosk ON outbox (next_attempt_at)
    WHERE status = 'pending' AND substr(kind, 1, 5) <> 'sync.';
CREATE INDEX outbox_sync_open ON outbox (kind, id)
    WHERE status IN ('pending', 'in_flight');

-- The last reconciliation of each Vipps ledger date (re-running replaces
-- it): the organizer screen and `luka reconcile` show it.
CREATE TABLE reconciliations (
    ledger_id        TEXT    NOT NULL,
    ledger_date      TEXT    NOT NULL,
    made_at          TEXT    NOT NULL,
    ok               INTEGER NOT NULL,
    result           TEXT    NOT NULL,
    PRIMARY KEY (ledger_id, ledger_date)
);
