-- Internal: each model key and its model id (the latest recorded: a renamed model keeps its key, and
-- its new id is recorded from the rename on; snapshots show the id in force at each snapshot's time).
CREATE OR REPLACE VIEW _model_keys WITH (DEFER_BINDING) AS
SELECT model_key, model_id
FROM _models
WHERE {{guard}}
QUALIFY row_number() OVER (PARTITION BY model_key ORDER BY valid_from DESC, run_id DESC) = 1;
