-- Internal: each model's earliest recorded attributes (used for a snapshot older than all of them,
-- e.g. an archive imported after a later collect).
CREATE OR REPLACE VIEW _model_first WITH (DEFER_BINDING) AS
SELECT *
FROM _models
WHERE {{guard}}
QUALIFY row_number() OVER (PARTITION BY model_key ORDER BY valid_from, run_id) = 1;
