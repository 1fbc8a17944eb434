-- 003: what the back office shows beyond takings per payment method.

-- Every line of the signed sale and return transactions (amounts in øre,
-- VAT included, negative on a return), on the till's local business date
-- and hour, with the operator who sold it: takings per product, group,
-- hour and operator. Derived from `journal` as entries are stored (and
-- once, for the entries stored before this migration, by the hub itself).
CREATE TABLE sale_lines (
    till_id          TEXT        NOT NULL,
    seq              BIGINT      NOT NULL,
    business_date    DATE        NOT NULL,
    hour             SMALLINT    NOT NULL,
    kind             TEXT        NOT NULL,
    operator         TEXT        NOT NULL,
    product_id       TEXT        NOT NULL,
    name             TEXT        NOT NULL,
    grp              TEXT        NOT NULL,
    quantity         BIGINT,
    amount           BIGINT      NOT NULL,
    training         BOOLEAN     NOT NULL,
    FOREIGN KEY (till_id, seq) REFERENCES journal (till_id, seq)
);
CREATE INDEX sale_lines_date ON sale_lines (business_date, till_id);

-- The same, summed per business day, as the takings page reads them: a
-- year of a club's sales is a few hundred thousand rows here, not millions.
-- Kept in step in the transaction that stores each entry (`ingest.rs`);
-- `payments` and `sale_lines` stay the record they are summed from.
CREATE TABLE takings_day (
    business_date    DATE        NOT NULL,
    till_id          TEXT        NOT NULL,
    hour             SMALLINT    NOT NULL,
    method           TEXT        NOT NULL,
    training         BOOLEAN     NOT NULL,
    sales            BIGINT      NOT NULL,
    returns          BIGINT      NOT NULL,
    -- Payments (of sales and returns), and payments of sales: one a sale.
    payments         BIGINT      NOT NULL,
    sales_count      BIGINT      NOT NULL,
    PRIMARY KEY (business_date, till_id, hour, method, training)
);
CREATE TABLE product_day (
    business_date    DATE        NOT NULL,
    till_id          TEXT        NOT NULL,
    training         BOOLEAN     NOT NULL,
    product_id       TEXT        NOT NULL,
    grp              TEXT        NOT NULL,
    -- The name it was last sold under that day.
    name             TEXT        NOT NULL,
    quantity         BIGINT      NOT NULL,
    amount           BIGINT      NOT NULL,
    PRIMARY KEY (business_date, till_id, training, product_id, grp)
);
CREATE TABLE operator_day (
    business_date    DATE        NOT NULL,
    till_id          TEXT        NOT NULL,
    training         BOOLEAN     NOT NULL,
    operator         TEXT        NOT NULL,
    quantity         BIGINT      NOT NULL,
    amount           BIGINT      NOT NULL,
    PRIMARY KEY (business_date, till_id, training, operator)
);

-- The volunteers' names, from the tills' `operator.login` entries, so the
-- takings per operator show a name, not only the id.
CREATE TABLE operators (
    till_id          TEXT        NOT NULL,
    id               TEXT        NOT NULL,
    name             TEXT        NOT NULL,
    PRIMARY KEY (till_id, id)
);

-- What each till last said of itself (`POST /api/status`): its version,
-- unsent backlog, printer and Vipps, as the JSON it sent; and when.
ALTER TABLE tills ADD COLUMN status TEXT;
ALTER TABLE tills ADD COLUMN status_at TIMESTAMPTZ;

-- Roles: a treasurer may do everything; a "kioskansvarlig" may only see
-- takings and mark products sold out.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'treasurer'
    CHECK (role IN ('treasurer', 'kiosk'));

-- Sold out for the whole club: set on the hub, or by a till whose
-- `stock.changed` entry came up; `sold_out_at` is when the newest of those
-- happened, so a mark that arrives late never undoes a newer one.
ALTER TABLE products ADD COLUMN sold_out BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE products ADD COLUMN sold_out_at TIMESTAMPTZ;
