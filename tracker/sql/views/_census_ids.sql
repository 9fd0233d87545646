-- Internal: model ids of the census keys (a key is given once; the creation time once known).
CREATE OR REPLACE VIEW _census_ids WITH (DEFER_BINDING) AS
SELECT model_key, any_value(model_id) AS model_id, max(created_at) AS created_at
FROM read_parquet('{{warehouse}}/census_ids/*/*.parquet', union_by_name = true)
WHERE {{guard}}
GROUP BY model_key;
