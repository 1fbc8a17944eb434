-- 001: tills and their pairing, every till's journal as delivered, the
-- chain check's position per till, alerts, treasurer accounts and sessions.

-- A till the club has added ("Legg til kasse" / `luka hub add-till`). Its
-- device credential is kept only as a SHA-256 hash; NULL while no device
-- is paired (never paired, or unpaired with `luka hub remove-till`).
CREATE TABLE tills (
    id               TEXT        PRIMARY KEY,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    credential_hash  BYTEA,
    paired_at        TIMESTAMPTZ,
    removed_at       TIMESTAMPTZ,
    last_seen        TIMESTAMPTZ
);
CREATE UNIQUE INDEX tills_credential ON tills (credential_hash)
    WHERE credential_hash IS NOT NULL;

-- One-time pairing codes, hashed; a code is used at most once.
CREATE TABLE pair_codes (
    code_hash        BYTEA       PRIMARY KEY,
    till_id          TEXT        NOT NULL REFERENCES tills (id),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at       TIMESTAMPTZ NOT NULL,
    used_at          TIMESTAMPTZ
);

-- The public halves of each till's signing keys, as they came up with the
-- first entry they signed. A key version never changes its key.
CREATE TABLE till_keys (
    till_id          TEXT        NOT NULL REFERENCES tills (id),
    key_version      TEXT        NOT NULL,
    algorithm        TEXT        NOT NULL,
    public_key       TEXT        NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (till_id, key_version)
);

-- Every journal entry of every till, exactly as the till stored it (the
-- text its hash covers). Never updated or deleted: the club's off-site copy.
CREATE TABLE journal (
    till_id          TEXT        NOT NULL REFERENCES tills (id),
    seq              BIGINT      NOT NULL,
    at               TEXT        NOT NULL,
    sale_id          BIGINT,
    kind             TEXT        NOT NULL,
    data             TEXT        NOT NULL,
    event_code       BIGINT,
    trans            TEXT,
    signature        TEXT,
    key_version      TEXT,
    prev_hash        TEXT,
    hash             TEXT,
    received_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (till_id, seq)
);
CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the hub''s journal is append-only'; END $$;
CREATE TRIGGER journal_no_change BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();

-- The payments of the signed sale and return entries, for takings: one row
-- per payment of a `sale.paid` / `sale.refunded` transaction (amounts in
-- øre, negative on a return), on the till's local business date.
CREATE TABLE payments (
    till_id          TEXT        NOT NULL,
    seq              BIGINT      NOT NULL,
    business_date    DATE        NOT NULL,
    hour             SMALLINT    NOT NULL,
    kind             TEXT        NOT NULL,
    method           TEXT        NOT NULL,
    amount           BIGINT      NOT NULL,
    training         BOOLEAN     NOT NULL,
    FOREIGN KEY (till_id, seq) REFERENCES journal (till_id, seq)
);
CREATE INDEX payments_date ON payments (business_date, till_id);

-- Where each till's chain check stands: the last entry taken in.
CREATE TABLE till_chain (
    till_id          TEXT        PRIMARY KEY REFERENCES tills (id),
    head_seq         BIGINT      NOT NULL,
    head_hash        TEXT        NOT NULL,
    last_signature   TEXT,
    last_nr          BIGINT
);

-- What the chain check found: a gap, a changed entry, a bad signature, a
-- second version of an entry. Shown to the treasurer; never patched.
CREATE TABLE alerts (
    id               BIGSERIAL   PRIMARY KEY,
    till_id          TEXT        NOT NULL REFERENCES tills (id),
    seq              BIGINT,
    what             TEXT        NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX alerts_till ON alerts (till_id, id);

-- Treasurers: argon2 password hashes, and the lockout after failures.
CREATE TABLE users (
    id               BIGSERIAL   PRIMARY KEY,
    name             TEXT        NOT NULL UNIQUE,
    password_hash    TEXT        NOT NULL,
    failed_logins    INTEGER     NOT NULL DEFAULT 0,
    locked_until     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Logged-in sessions: the cookie's token only as a SHA-256 hash.
CREATE TABLE sessions (
    token_hash       BYTEA       PRIMARY KEY,
    user_id          BIGINT      NOT NULL REFERENCES users (id),
    csrf             TEXT        NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL
);
