-- 003: trends (`tracker report` and your own analyses).
-- family_daily gains downloads_day: the exact downloads per day, from all-time counts (models present
-- in both snapshots, plus models created in between), spread evenly over a gap of several days.
-- The other views read small tables that every job recomputes from the family series (derived/).

CREATE OR REPLACE VIEW family_daily AS
SELECT d.day, d.family, d.label, d.region, d.models, d.downloads_30d, d.downloads_all_time, d.likes,
       t.derivatives, t.finetunes, t.adapters, t.quantizations, t.merges, t.ecosystem_downloads_30d,
       d.downloads_interval / d.interval_days AS downloads_day
FROM _family_day d LEFT JOIN _family_tree t USING (day, family);

CREATE OR REPLACE VIEW family_weekly AS
SELECT * FROM read_parquet('{{warehouse}}/derived/family_weekly.parquet') WHERE {{guard}};

-- crossovers: A (family) moved ahead of B (overtaken) on day; previous_day is the last snapshot on which A
-- was behind (ties are skipped). reversed: B was ahead again within the next three snapshots;
-- holds_same_models: A is still ahead when each family's change is taken over the models present on
-- both days (NULL: not known); after_stale: a stale day lies between, so "on or before" day;
-- headline: not reversed and holds over the same models.
CREATE OR REPLACE VIEW crossovers AS
SELECT day, metric, family, overtaken, family_value, overtaken_value, previous_day, family_previous_value,
       overtaken_previous_value, reversed, reversed_day, holds_same_models, after_stale, headline
FROM read_parquet('{{warehouse}}/derived/crossovers.parquet');

CREATE OR REPLACE VIEW model_crossovers AS
SELECT day, metric, model_id, overtaken, model_value, overtaken_value, previous_day, model_previous_value,
       overtaken_previous_value, reversed, reversed_day, after_stale, headline
FROM read_parquet('{{warehouse}}/derived/model_crossovers.parquet');

CREATE OR REPLACE VIEW projections AS
-- projections: the follower (family) would move ahead of overtaken between projected_from and projected_to
-- (projected_day: where the fitted line crosses), from n_points daily values first_day .. last_day.
SELECT as_of, metric, family, overtaken, projected_from, projected_to, projected_day, window_days, first_day,
       last_day, n_points
FROM read_parquet('{{warehouse}}/derived/projections.parquet');

CREATE OR REPLACE VIEW quality AS
SELECT day, family, model_id, issue, detail
FROM read_parquet('{{warehouse}}/quality/*/*.parquet', union_by_name = true)
WHERE run_id IN (SELECT run_id FROM runs WHERE status IN ('ok', 'partial'))
UNION ALL
SELECT day, family, model_id, issue, detail FROM read_parquet('{{warehouse}}/derived/family_quality.parquet');
