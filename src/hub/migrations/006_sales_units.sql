-- 006: the Vipps sales unit an event menu sells under (issue 16, part 4),
-- by the name the tills' luka.toml gives it ("Håndball"). The keys stay on
-- the tills: the hub only says which of their units to use. NULL: each
-- till sells under its own.
ALTER TABLE menus ADD COLUMN sales_unit TEXT
    CHECK (sales_unit IS NULL OR (btrim(sales_unit) <> '' AND length(sales_unit) <= 60));
