-- 007: the link to the club's hub (`luka pair URL CODE`).
--
-- One row while the till is paired: which hub, and the till id the hub
-- knows it by. The device credential is not here: it lives in its own 0600
-- file beside the database (secrets never go into a database). While a row
-- exists, every journal entry queues a `sync.hub` outbox item in the same
-- transaction, carrying the entry exactly as stored (and the public key of
-- a signed one), so the hub receives every entry, in order, exactly once
-- per (till, seq) however often the lane retries.
CREATE TABLE hub_link (
    one          INTEGER PRIMARY KEY CHECK (one = 1),
    url          TEXT    NOT NULL,
    till_id      TEXT    NOT NULL,
    paired_at    TEXT    NOT NULL
);
