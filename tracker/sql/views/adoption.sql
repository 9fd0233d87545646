-- ATOM-style relative adoption (README, "Trends"). For each tracked model and each milestone of 30, 90
-- and 180 days after its release: its cumulative downloads then (downloads_all_time, measured on `day`)
-- relative to the median of the models of its size class (from the Hub's safetensors parameter count;
-- 'unknown' without it) released in the same year (relative_adoption; `peers` models compared).
CREATE OR REPLACE VIEW adoption WITH (DEFER_BINDING) AS
SELECT model_id, family, size_class, age_days, downloads_all_time, relative_adoption, release_year, parameters,
       day, peers
FROM read_parquet('{{warehouse}}/derived/adoption.parquet')
WHERE {{guard}};
