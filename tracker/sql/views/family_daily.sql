-- One row per family per day (columns: README, "The warehouse"). Served: a small file rewritten from
-- the raw rows (_family_daily) after every job, so it answers at once however long the history.
CREATE OR REPLACE VIEW family_daily WITH (DEFER_BINDING) AS
SELECT day, family, label, region, models, downloads_30d, downloads_all_time, likes, derivatives,
       finetunes, adapters, quantizations, merges, ecosystem_downloads_30d, downloads_day, source
FROM read_parquet('{{warehouse}}/serving/family_daily.parquet')
WHERE {{guard}};
