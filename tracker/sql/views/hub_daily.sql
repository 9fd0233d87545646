-- 010: hub_daily: the whole Hub per census day and region (the region of a model's author through
-- the families' rules: an author of a family has its region; everyone else is `other`; `all` is the
-- whole Hub): models, 30-day downloads, likes and hhi_authors, the Herfindahl index of 30-day
-- downloads over authors (1 = one author has all of them).
CREATE OR REPLACE VIEW hub_daily WITH (DEFER_BINDING) AS
SELECT h.day, h.region, h.models, h.downloads_30d, h.likes, h.hhi_authors
FROM read_parquet('{{warehouse}}/census_hub/*/*.parquet', union_by_name = true) h
JOIN _census_days d USING (day, run_id)
WHERE {{guard}};
