-- Internal (report): the ten authors with most new derivatives of each family in the census's month.
CREATE OR REPLACE VIEW _census_authors WITH (DEFER_BINDING) AS
SELECT a.day, a.month, a.family, a.author, a.derivatives, a.rank
FROM read_parquet('{{warehouse}}/census_authors/*/*.parquet', union_by_name = true) a
JOIN _census_days d USING (day, run_id)
WHERE {{guard}};
