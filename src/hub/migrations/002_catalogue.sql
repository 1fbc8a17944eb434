-- 002: the club's catalogue, which comes down to the tills as one
-- versioned snapshot. Every change (add, edit, archive) raises the one
-- version in `catalogue_version` in the same transaction, so a till that
-- holds version N has exactly what the hub had at N.

CREATE TABLE products (
    id               TEXT        PRIMARY KEY,
    name             TEXT        NOT NULL CHECK (btrim(name) <> ''),
    grp              TEXT        NOT NULL DEFAULT '',
    -- VAT-inclusive unit price in øre.
    price_ore        BIGINT      NOT NULL CHECK (price_ore > 0),
    -- SAF-T standard VAT code for sales, as the till's VatCode.
    vat_code         SMALLINT    NOT NULL CHECK (vat_code IN (3, 31, 32, 33, 5, 6)),
    position         INTEGER     NOT NULL DEFAULT 0,
    archived         BOOLEAN     NOT NULL DEFAULT false,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row: the catalogue's version and when it last changed.
CREATE TABLE catalogue_version (
    one              BOOLEAN     PRIMARY KEY DEFAULT true CHECK (one),
    version          BIGINT      NOT NULL,
    changed_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO catalogue_version (version) VALUES (0);
