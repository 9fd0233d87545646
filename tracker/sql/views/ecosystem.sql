-- The community children of each ecosystem family's top models, per day. Served (from _ecosystem).
CREATE OR REPLACE VIEW ecosystem WITH (DEFER_BINDING) AS
SELECT day, family, base_model_id, relation, model_id, author, downloads_30d, downloads_all_time, likes
FROM read_parquet('{{warehouse}}/serving/ecosystem.parquet')
WHERE {{guard}};
