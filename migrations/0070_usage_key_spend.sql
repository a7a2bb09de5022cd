-- Spend per key and UTC day, added to by the same statement that stores a usage batch. Budgets read
-- a key's few rows here instead of summing its records: a month of a busy key is millions of
-- records, and a budget re-reads its total after every batch and every few seconds. Records rolled
-- up and deleted by `gantry maintenance` stay counted here, so budgets never fall back.
CREATE TABLE usage_key_spend (
  key_id   text NOT NULL,
  day      date NOT NULL,
  cost_usd double precision NOT NULL,
  PRIMARY KEY (key_id, day)
);

INSERT INTO usage_key_spend (key_id, day, cost_usd)
SELECT key_id, day, sum(cost_usd)
  FROM (SELECT key_id, (created_at AT TIME ZONE 'UTC')::date AS day, cost_usd
          FROM usage_records
         WHERE key_id IS NOT NULL
        UNION ALL
        SELECT key_id, day, cost_usd
          FROM usage_daily
         WHERE key_id <> '') AS spend
 GROUP BY key_id, day;
