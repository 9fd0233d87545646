-- Projected crossovers (derived/projections.parquet).
CREATE OR REPLACE VIEW projections AS
SELECT as_of, metric, family, overtaken, projected_day, window_days
FROM read_parquet('{{warehouse}}/derived/projections.parquet')
WHERE {{guard}};
