-- Crossovers among the leading models of a metric (derived/model_crossovers.parquet).
CREATE OR REPLACE VIEW model_crossovers WITH (DEFER_BINDING) AS
SELECT day, metric, model_id, overtaken, model_value, overtaken_value, previous_day, model_previous_value,
       overtaken_previous_value, reversed, reversed_day, after_stale, headline
FROM read_parquet('{{warehouse}}/derived/model_crossovers.parquet')
WHERE {{guard}};
