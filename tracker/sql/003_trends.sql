-- 003: trends (`tracker report` and your own analyses).
-- family_daily gains downloads_day: the exact downloads per day, from all-time counts (models present
-- in both snapshots, plus models created in between), spread evenly over a gap of several days.
-- The other views read small tables that every job recomputes from the family series (derived/).

CREATE OR REPLACE VIEW family_daily AS
WITH base AS (
    SELECT day, family, label, region, models, downloads_30d, downloads_all_time, likes,
           downloads_interval / interval_days AS downloads_day
    FROM read_parquet('{{warehouse}}/family_snapshots/*/*.parquet', union_by_name = true)
    WHERE run_id IN (SELECT run_id FROM runs WHERE status IN ('ok', 'partial'))
    QUALIFY row_number() OVER (PARTITION BY day, family ORDER BY taken_at DESC, run_id DESC) = 1
), t AS (
    SELECT day, family, sum(derivatives)::BIGINT AS derivatives, sum(finetunes)::BIGINT AS finetunes,
           sum(adapters)::BIGINT AS adapters, sum(quantizations)::BIGINT AS quantizations,
           sum(merges)::BIGINT AS merges
    FROM tree GROUP BY day, family
), eco AS (  -- a child of two top models (a merge) counts once
    SELECT day, family, sum(downloads_30d)::BIGINT AS ecosystem_downloads_30d
    FROM (SELECT DISTINCT day, family, model_id, downloads_30d FROM ecosystem)
    GROUP BY day, family
)
SELECT b.day, b.family, b.label, b.region, b.models, b.downloads_30d, b.downloads_all_time, b.likes,
       t.derivatives, t.finetunes, t.adapters, t.quantizations, t.merges, eco.ecosystem_downloads_30d,
       b.downloads_day
FROM base b
LEFT JOIN t USING (day, family)
LEFT JOIN eco USING (day, family);

CREATE OR REPLACE VIEW family_weekly AS
SELECT * FROM read_parquet('{{warehouse}}/derived/family_weekly.parquet') WHERE {{guard}};

CREATE OR REPLACE VIEW crossovers AS
SELECT day, metric, family, overtaken, family_value, overtaken_value, previous_day, family_previous_value,
       overtaken_previous_value
FROM read_parquet('{{warehouse}}/derived/crossovers.parquet');

CREATE OR REPLACE VIEW model_crossovers AS
SELECT day, metric, model_id, overtaken, model_value, overtaken_value, previous_day, model_previous_value,
       overtaken_previous_value
FROM read_parquet('{{warehouse}}/derived/model_crossovers.parquet');

CREATE OR REPLACE VIEW projections AS
SELECT as_of, metric, family, overtaken, projected_day, window_days
FROM read_parquet('{{warehouse}}/derived/projections.parquet');

CREATE OR REPLACE VIEW quality AS
SELECT day, family, model_id, issue, detail
FROM read_parquet('{{warehouse}}/quality/*/*.parquet', union_by_name = true)
WHERE run_id IN (SELECT run_id FROM runs WHERE status IN ('ok', 'partial'))
UNION ALL
SELECT day, family, model_id, issue, detail FROM read_parquet('{{warehouse}}/derived/family_quality.parquet');
