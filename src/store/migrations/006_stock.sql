-- 006: what is left to sell (issue 16, part 1): a product marked sold out,
-- or counted ("40 pølser") down with every sale and back with a full return.
-- A product without a row is neither counted nor sold out.
CREATE TABLE stock (
    product_id  TEXT    PRIMARY KEY,
    -- NULL: not counted. Never below zero: a paid sale is never refused.
    remaining   INTEGER CHECK (remaining IS NULL OR remaining >= 0),
    sold_out    INTEGER NOT NULL DEFAULT 0,
    -- Warn when `remaining` comes down to this.
    low_mark    INTEGER CHECK (low_mark IS NULL OR low_mark >= 0)
);
