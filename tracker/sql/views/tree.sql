-- One row per official model per day with a complete tree. Served (from _tree after every job).
CREATE OR REPLACE VIEW tree WITH (DEFER_BINDING) AS
SELECT run_id, taken_at, day, family, model_id, finetunes, adapters, quantizations, merges, derivatives,
       status
FROM read_parquet('{{warehouse}}/serving/tree.parquet')
WHERE {{guard}};
