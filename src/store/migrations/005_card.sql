-- 005: sales paid on the club's own card terminal (issue 16): the method
-- 'card', and the terminal's reference for the receipt. SQLite cannot widen
-- a CHECK in place, so the table is rebuilt in this transaction; its
-- children's foreign keys are checked at commit, once every row is back.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE sales_before_005 AS SELECT * FROM sales;
DROP TABLE sales;

CREATE TABLE sales (
    id               INTEGER PRIMARY KEY,
    till_id          TEXT    NOT NULL,
    reference        TEXT    NOT NULL UNIQUE,
    method           TEXT    NOT NULL CHECK (method IN ('vipps', 'cash', 'card')),
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
    closed_at        TEXT,
    -- What the card terminal's slip says (its reference), when given.
    terminal_ref     TEXT
);
INSERT INTO sales (id, till_id, reference, method, status, currency, total_minor,
                   description, unpaid_reason, receipt_no, cash_given_minor, training,
                   created_at, closed_at)
    SELECT id, till_id, reference, method, status, currency, total_minor,
           description, unpaid_reason, receipt_no, cash_given_minor, training,
           created_at, closed_at
    FROM sales_before_005;
DROP TABLE sales_before_005;
CREATE INDEX sales_open ON sales (status) WHERE status NOT IN ('paid', 'unpaid');
