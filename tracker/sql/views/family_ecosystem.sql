-- 008: family_ecosystem: one row per family per census day. descendants = models attributed to the
-- family (a root of theirs is one of its models) that are not its own, at any depth; direct = depth 1;
-- finetunes .. merges by the relation of the edge into the model; new_descendants = created that day.
-- A model whose roots lie in several families counts for each (see `attribution.families`).
CREATE OR REPLACE VIEW family_ecosystem WITH (DEFER_BINDING) AS
SELECT f.day, f.family, f.label, f.region, f.descendants, f.direct, f.finetunes, f.adapters, f.quantizations,
       f.merges, f.max_depth, f.descendants_downloads_30d, f.descendants_likes, f.new_descendants
FROM read_parquet('{{warehouse}}/census_family/*/*.parquet', union_by_name = true) f
JOIN _census_days d USING (day, run_id)
WHERE {{guard}};
