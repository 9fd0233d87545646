-- Projected crossovers (derived/projections.parquet): the follower (family) would move ahead of overtaken
-- between projected_from and projected_to (projected_day: where the fitted line crosses), from n_points
-- daily values first_day .. last_day.
CREATE OR REPLACE VIEW projections WITH (DEFER_BINDING) AS
SELECT as_of, metric, family, overtaken, projected_from, projected_to, projected_day, window_days, first_day,
       last_day, n_points
FROM read_parquet('{{warehouse}}/derived/projections.parquet')
WHERE {{guard}};
