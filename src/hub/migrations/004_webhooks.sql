-- 004: Vipps webhooks through the hub (issue 16 part 6).

-- The hub's registration at Vipps per sales unit (MSN): Vipps' id for it,
-- the URL it posts to, and the secret every delivery is signed with. The
-- secret is only ever read to check a signature; never logged or shown.
CREATE TABLE vipps_webhooks (
    msn              TEXT        PRIMARY KEY,
    id               TEXT        NOT NULL,
    url              TEXT        NOT NULL,
    secret           TEXT        NOT NULL,
    registered_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per event taken, so the same event taken twice (a replay, or
-- Vipps trying again) has no second effect. Pruned after a day: a delivery
-- older than the receiver's date window is refused anyway.
CREATE TABLE vipps_webhook_events (
    key              TEXT        PRIMARY KEY,
    reference        TEXT        NOT NULL,
    name             TEXT        NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX vipps_webhook_events_received ON vipps_webhook_events (received_at);
