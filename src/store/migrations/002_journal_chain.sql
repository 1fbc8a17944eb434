-- 002: the journal's hash chain and SAF-T signatures.
-- Every entry carries its SAF-T code, the hash of the entry before it and
-- its own hash; a cash transaction also carries its transaction (JSON), its
-- signature and the key version. Entries written before this migration keep
-- NULL hashes and are reported as "from before the chain".
ALTER TABLE journal ADD COLUMN event_code INTEGER;
ALTER TABLE journal ADD COLUMN trans TEXT;
ALTER TABLE journal ADD COLUMN signature TEXT;
ALTER TABLE journal ADD COLUMN key_version TEXT;
ALTER TABLE journal ADD COLUMN prev_hash TEXT;
ALTER TABLE journal ADD COLUMN hash TEXT;

CREATE INDEX journal_kind ON journal (kind, seq);
CREATE INDEX journal_at ON journal (at);
CREATE INDEX journal_signed ON journal (seq) WHERE signature IS NOT NULL;

-- Public halves of every signing key the till has used: verification and
-- the SAF-T export need them, the private key stays in its 0600 file.
CREATE TABLE journal_keys (
    key_version      TEXT    PRIMARY KEY,
    algorithm        TEXT    NOT NULL,
    public_key       TEXT    NOT NULL,
    created_at       TEXT    NOT NULL
);
CREATE TRIGGER journal_keys_no_update BEFORE UPDATE ON journal_keys
BEGIN SELECT RAISE(ABORT, 'signing keys are append-only'); END;
CREATE TRIGGER journal_keys_no_delete BEFORE DELETE ON journal_keys
BEGIN SELECT RAISE(ABORT, 'signing keys are append-only'); END;
