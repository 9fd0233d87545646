-- 007: lineage: the edges of the model tree of each census day kept (child model_id -> parent_id,
-- with the relation of the edge into the child: finetune, adapter, quantized or merge). A parent that
-- the census did not list (deleted, private) still appears: it is a root known by its id alone.
CREATE OR REPLACE VIEW lineage AS
SELECT e.day, c.model_id, p.model_id AS parent_id, e.relation
FROM read_parquet('{{warehouse}}/census_edges/*/*.parquet', union_by_name = true) e
JOIN _census_days d USING (day, run_id)
JOIN _census_ids c ON c.model_key = e.model_key
JOIN _census_ids p ON p.model_key = e.parent_key;

-- attribution: every descendant of every family on each census day, its depth below the family's
-- own models (1 = a direct child) and the number of families it counts for (families > 1: a merge
-- or a descendant of roots in several families, counted in each).
CREATE OR REPLACE VIEW attribution AS
SELECT a.day, i.model_id, a.family, a.depth, a.families
FROM read_parquet('{{warehouse}}/census_attribution/*/*.parquet', union_by_name = true) a
JOIN _census_days d USING (day, run_id)
JOIN _census_ids i USING (model_key);
