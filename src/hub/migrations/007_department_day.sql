-- 007: takings per department (issue 16, part 4). A till's sales and
-- returns carry the department (avdeling) their sales unit books under, in
-- the signed transaction; the hub sums them per business day, till,
-- department and payment method, in the same transaction that stores each
-- entry (`ingest.rs`, like takings_day). '' is "no department": every sale
-- made before departments, and a till that has none.
CREATE TABLE department_day (
    business_date    DATE        NOT NULL,
    till_id          TEXT        NOT NULL,
    training         BOOLEAN     NOT NULL,
    department       TEXT        NOT NULL,
    method           TEXT        NOT NULL,
    sales            BIGINT      NOT NULL,
    -- Money given back, negative.
    returns          BIGINT      NOT NULL,
    PRIMARY KEY (business_date, till_id, training, department, method)
);

-- What the hub already held when this came, summed once here. An entry
-- whose transaction cannot be read is left out, as ingest leaves it out:
-- the upgrade must never stop the hub.
CREATE FUNCTION pg_temp.trans_json(t TEXT) RETURNS JSONB LANGUAGE plpgsql AS $$
BEGIN
    RETURN t::JSONB;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
CREATE FUNCTION pg_temp.trans_date(t TEXT) RETURNS DATE LANGUAGE plpgsql AS $$
BEGIN
    RETURN t::DATE;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

INSERT INTO department_day (business_date, till_id, training, department, method, sales, returns)
SELECT pg_temp.trans_date(t ->> 'date'), j.till_id,
       COALESCE(t -> 'training' = 'true'::JSONB, false),
       COALESCE(t ->> 'department', ''), p ->> 'method',
       sum(CASE WHEN j.kind = 'sale.paid' THEN (p ->> 'amount')::BIGINT ELSE 0 END),
       sum(CASE WHEN j.kind = 'sale.refunded' THEN (p ->> 'amount')::BIGINT ELSE 0 END)
FROM journal j
CROSS JOIN LATERAL (SELECT pg_temp.trans_json(j.trans) AS t) x
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(x.t -> 'payments') = 'array' THEN x.t -> 'payments'
         ELSE '[]'::JSONB END) p
WHERE j.kind IN ('sale.paid', 'sale.refunded') AND j.trans IS NOT NULL
  AND pg_temp.trans_date(t ->> 'date') IS NOT NULL
  AND (p ->> 'amount') ~ '^-?[0-9]{1,15}$' AND p ->> 'method' IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;
