-- Every day on which a family moved ahead of another in a metric (derived/crossovers.parquet).
CREATE OR REPLACE VIEW crossovers AS
SELECT day, metric, family, overtaken, family_value, overtaken_value, previous_day, family_previous_value,
       overtaken_previous_value
FROM read_parquet('{{warehouse}}/derived/crossovers.parquet')
WHERE {{guard}};
