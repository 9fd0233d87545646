-- Trends per ISO week (recomputed after every job from family_daily: derived/family_weekly.parquet).
CREATE OR REPLACE VIEW family_weekly WITH (DEFER_BINDING) AS
SELECT * FROM read_parquet('{{warehouse}}/derived/family_weekly.parquet') WHERE {{guard}};
