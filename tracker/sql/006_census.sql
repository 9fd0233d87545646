-- 006: the whole-Hub census (`tracker census`, or `tracker import` of a hub-stats dump).
-- A census day is visible once its run record is in runs/ with status ok (written last); a killed or
-- failed census leaves only staging chunks, which no view reads. Internal: the census kept for each
-- day (the latest complete one of that day).
CREATE OR REPLACE VIEW _census_days AS
SELECT s.day, s.run_id, s.source
FROM read_parquet('{{warehouse}}/census_stats/*/*.parquet', union_by_name = true) s
WHERE {{guard}} AND s.run_id IN (SELECT run_id FROM runs WHERE status = 'ok')
QUALIFY row_number() OVER (PARTITION BY s.day ORDER BY s.run_id DESC) = 1;

-- Internal: model ids of the census keys (a key is given once; the creation time once known).
CREATE OR REPLACE VIEW _census_ids AS
SELECT model_key, any_value(model_id) AS model_id, max(created_at) AS created_at
FROM read_parquet('{{warehouse}}/census_ids/*/*.parquet', union_by_name = true)
GROUP BY model_key;

-- The census's awkward cases per day: dangling parents (roots known by id alone), cycles,
-- self-references, models whose ancestry never reaches a root, models counted for several families.
CREATE OR REPLACE VIEW census_stats AS
SELECT s.day, s.models, s.edges, s.roots, s.dangling_parents, s.cycles, s.models_in_cycles, s.self_references,
       s.unrooted, s.multi_family, s.source
FROM read_parquet('{{warehouse}}/census_stats/*/*.parquet', union_by_name = true) s
JOIN _census_days c USING (day, run_id);
