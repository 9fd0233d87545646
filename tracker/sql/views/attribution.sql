-- attribution: every descendant of every family on each census day, its depth below the family's
-- own models (1 = a direct child) and the number of families it counts for (families > 1: a merge
-- or a descendant of roots in several families, counted in each).
CREATE OR REPLACE VIEW attribution WITH (DEFER_BINDING) AS
SELECT a.day, i.model_id, a.family, a.depth, a.families
FROM read_parquet('{{warehouse}}/census_attribution/*/*.parquet', union_by_name = true) a
JOIN _census_days d USING (day, run_id)
JOIN _census_ids i USING (model_key)
WHERE {{guard}};
