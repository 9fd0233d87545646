-- The census's awkward cases per day: dangling parents (roots known by id alone), cycles,
-- self-references, models whose ancestry never reaches a root, models counted for several families.
CREATE OR REPLACE VIEW census_stats WITH (DEFER_BINDING) AS
SELECT s.day, s.models, s.edges, s.roots, s.dangling_parents, s.cycles, s.models_in_cycles, s.self_references,
       s.unrooted, s.multi_family, s.source
FROM read_parquet('{{warehouse}}/census_stats/*/*.parquet', union_by_name = true) s
JOIN _census_days c USING (day, run_id)
WHERE {{guard}};
