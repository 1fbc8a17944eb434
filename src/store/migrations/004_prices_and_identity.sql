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

-- This installation's id, made once with the database (a restored backup
-- keeps it: the journal is the installation's). Printed on every X and Z
-- and written in SAF-T (kassasystemforskriften § 2-8-2 d).
CREATE TABLE till_identity (
    installation_id  TEXT NOT NULL
);
INSERT INTO till_identity (installation_id) VALUES (lower(hex(randomblob(16))));
