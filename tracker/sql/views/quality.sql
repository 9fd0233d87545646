-- Data-quality notes: model-level findings of each collect, and family-level ones derived from
-- family_daily (derived/family_quality.parquet).
CREATE OR REPLACE VIEW quality WITH (DEFER_BINDING) AS
SELECT q.day, q.family, q.model_id, q.issue, q.detail
FROM (SELECT run_id FROM runs WHERE status IN ('ok', 'partial')) r
JOIN _files('quality') q USING (run_id)
WHERE {{guard}}
UNION ALL
SELECT day, family, model_id, issue, detail
FROM read_parquet('{{warehouse}}/derived/family_quality.parquet')
WHERE {{guard}};
