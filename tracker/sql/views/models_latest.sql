-- Every model of each family's latest successful snapshot, with the columns of `snapshots`. Served
-- (from _models_latest after every job), sorted by family and model id.
CREATE OR REPLACE VIEW models_latest WITH (DEFER_BINDING) AS
SELECT run_id, taken_at, day, family, model_id, author, downloads_30d, downloads_all_time, likes,
       trending_score, created_at, last_modified, pipeline_tag, library_name, gated, parameters
FROM read_parquet('{{warehouse}}/serving/models_latest.parquet')
WHERE {{guard}};
