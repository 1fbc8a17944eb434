-- 008: the status bar's "unsent" count and the organizer's backlog read the
-- open outbox items on every refresh. Since 003 no index covered status
-- alone, so both walked the whole outbox; with the hub lane adding one
-- item per journal entry, that grew with the till's whole history. Open
-- items are few: a partial index over them keeps both reads small.
CREATE INDEX outbox_open ON outbox (status, id)
    WHERE status IN ('pending', 'in_flight', 'failed');
