-- 007: lineage: the edges of the model tree of each census day kept (child model_id -> parent_id,
-- with the relation of the edge into the child: finetune, adapter, quantized or merge). A parent that
-- the census did not list (deleted, private) still appears: it is a root known by its id alone.
CREATE OR REPLACE VIEW lineage WITH (DEFER_BINDING) AS
SELECT e.day, c.model_id, p.model_id AS parent_id, e.relation
FROM read_parquet('{{warehouse}}/census_edges/*/*.parquet', union_by_name = true) e
JOIN _census_days d USING (day, run_id)
JOIN _census_ids c ON c.model_key = e.model_key
JOIN _census_ids p ON p.model_key = e.parent_key
WHERE {{guard}};
