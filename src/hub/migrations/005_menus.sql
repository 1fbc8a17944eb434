-- 005: product groups as records with an order, and event menus per till.
--
-- Until now a product's group was free text (`products.grp`). A group is
-- now a row the treasurer names, orders and archives, and a product points
-- at it (`group_id`; none: "uten gruppe"), so a rename is one row and the
-- tills' tiles follow the groups' order. A hub upgraded from text groups
-- gets one group per distinct text (spellings that differ only in case
-- become one group, spelt as its first product has it), ordered as the
-- tills showed them: by the first product's place.

CREATE TABLE groups (
    id               BIGSERIAL   PRIMARY KEY,
    name             TEXT        NOT NULL CHECK (btrim(name) <> ''),
    position         INTEGER     NOT NULL DEFAULT 0,
    archived         BOOLEAN     NOT NULL DEFAULT false,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- "Kiosk" and "kiosk" side by side would only confuse: one name, any case.
CREATE UNIQUE INDEX groups_name ON groups (lower(name));

INSERT INTO groups (name, position)
SELECT name, row_number() OVER (ORDER BY first, lower(name))
FROM (SELECT (array_agg(btrim(grp) ORDER BY position, id))[1] AS name,
             min(position) AS first
      FROM products WHERE btrim(grp) <> '' GROUP BY lower(btrim(grp))) AS g;

ALTER TABLE products ADD COLUMN group_id BIGINT REFERENCES groups (id);
UPDATE products p SET group_id = g.id
FROM groups g WHERE lower(g.name) = lower(btrim(p.grp));
ALTER TABLE products DROP COLUMN grp;
CREATE INDEX products_group ON products (group_id, position);

-- An event menu: a named set of products ("Kamp A-lag", "Cup lørdag") a
-- till shows instead of the whole catalogue.
CREATE TABLE menus (
    id               BIGSERIAL   PRIMARY KEY,
    name             TEXT        NOT NULL CHECK (btrim(name) <> ''),
    archived         BOOLEAN     NOT NULL DEFAULT false,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX menus_name ON menus (lower(name));

CREATE TABLE menu_products (
    menu_id          BIGINT      NOT NULL REFERENCES menus (id),
    product_id       TEXT        NOT NULL REFERENCES products (id),
    PRIMARY KEY (menu_id, product_id)
);

-- The menu a till sells from; none: the whole catalogue.
ALTER TABLE tills ADD COLUMN menu_id BIGINT REFERENCES menus (id);

-- What the tills are sent changed shape (the menu's name, the groups'
-- order): a hub with products raises the version so each till fetches it
-- once (a till journals only what really changed for it).
UPDATE catalogue_version SET version = version + 1, changed_at = now()
WHERE EXISTS (SELECT 1 FROM products);
