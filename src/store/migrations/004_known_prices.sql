-- 004: the price list the till last started selling with. At every start
-- (and, with a hub, every catalogue it applies) the till compares the
-- catalogue with this table and journals each change with its old and new
-- price (kassasystemforskriften § 2-7-1, SAF-T event 13021).
CREATE TABLE known_prices (
    product_id   TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    price_minor  INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    vat_code     INTEGER NOT NULL
);
