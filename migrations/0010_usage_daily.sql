-- Daily usage totals: `gantry maintenance` folds usage_records older than usage.retention into
-- this table before deleting them, so long-term spend survives retention.
CREATE TABLE usage_daily (
  day               date NOT NULL,
  key_id            text NOT NULL DEFAULT '',
  alias             text NOT NULL,
  requests          bigint NOT NULL,
  prompt_tokens     bigint NOT NULL,
  completion_tokens bigint NOT NULL,
  cost_usd          double precision NOT NULL,
  PRIMARY KEY (day, key_id, alias)
);
