-- 001: sales, their lines and payments, refunds, the outbox and the journal.
-- Money is INTEGER minor units (øre). Instants are RFC 3339 UTC text; outbox
-- scheduling uses integer Unix milliseconds so "due" is a cheap comparison.

CREATE TABLE sales (
    id               INTEGER PRIMARY KEY,
    till_id          TEXT    NOT NULL,
    reference        TEXT    NOT NULL UNIQUE,
    method           TEXT    NOT NULL CHECK (method IN ('vipps', 'cash')),
    status           TEXT    NOT NULL CHECK (status IN
                       ('pending', 'awaiting', 'capturing', 'cancelling', 'paid', 'unpaid')),
    currency         TEXT    NOT NULL,
    total_minor      INTEGER NOT NULL CHECK (total_minor > 0),
    description      TEXT    NOT NULL,
    unpaid_reason    TEXT,
    receipt_no       INTEGER UNIQUE,
    cash_given_minor INTEGER,
    training         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT    NOT NULL,
    closed_at        TEXT
);
CREATE INDEX sales_open ON sales (status) WHERE status NOT IN ('paid', 'unpaid');

CREATE TABLE sale_lines (
    sale_id          INTEGER NOT NULL REFERENCES sales (id),
    line_no          INTEGER NOT NULL,
    product_id       TEXT,
    name             TEXT    NOT NULL,
    product_group    TEXT    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL,
    vat_code         INTEGER NOT NULL,
    PRIMARY KEY (sale_id, line_no)
);

CREATE TABLE payments (
    sale_id          INTEGER PRIMARY KEY REFERENCES sales (id),
    provider         TEXT    NOT NULL,
    reference        TEXT    NOT NULL UNIQUE,
    phase            TEXT    NOT NULL,
    amount_minor     INTEGER NOT NULL,
    authorized_minor INTEGER NOT NULL DEFAULT 0,
    captured_minor   INTEGER NOT NULL DEFAULT 0,
    cancelled_minor  INTEGER NOT NULL DEFAULT 0,
    refunded_minor   INTEGER NOT NULL DEFAULT 0,
    redirect_url     TEXT,
    psp_reference    TEXT,
    expires_at       TEXT,
    reads            INTEGER NOT NULL DEFAULT 0,
    updated_at       TEXT    NOT NULL
);

CREATE TABLE refunds (
    id               INTEGER PRIMARY KEY,
    sale_id          INTEGER NOT NULL REFERENCES sales (id),
    amount_minor     INTEGER NOT NULL CHECK (amount_minor > 0),
    reason           TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    created_at       TEXT    NOT NULL,
    done_at          TEXT
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    sale_id          INTEGER REFERENCES sales (id),
    kind             TEXT    NOT NULL,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN
                       ('pending', 'in_flight', 'done', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    requeue_reason   TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_sale ON outbox (sale_id, id);

-- Append-only: the triggers refuse edits and deletions at the database level.
CREATE TABLE journal (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    at               TEXT    NOT NULL,
    sale_id          INTEGER,
    kind             TEXT    NOT NULL,
    data             TEXT    NOT NULL
);
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

CREATE TABLE counters (
    name             TEXT    PRIMARY KEY,
    value            INTEGER NOT NULL
);
