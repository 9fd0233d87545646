-- Internal: family_daily over the raw rows (served as `family_daily`). One row per family per day:
-- its last successful snapshot of the day (summed at collect time over its models), the day's tree
-- sums, the exact downloads per day, and backfilled days where nothing was observed.
CREATE OR REPLACE VIEW _family_daily WITH (DEFER_BINDING) AS
WITH backfilled AS (
    SELECT *
    FROM _files('backfill')
    QUALIFY row_number() OVER (PARTITION BY day, family ORDER BY computed_on DESC, run_id DESC) = 1
)
SELECT d.day, d.family, d.label, d.region, d.models, d.downloads_30d, d.downloads_all_time, d.likes,
       t.derivatives, t.finetunes, t.adapters, t.quantizations, t.merges, t.ecosystem_downloads_30d,
       d.downloads_interval / d.interval_days AS downloads_day,
       CASE d.job WHEN 'import' THEN 'import' ELSE 'snapshot' END AS source,
       d.interval_days
FROM _family_day d LEFT JOIN _family_tree t USING (day, family)
WHERE {{guard}}
UNION ALL
SELECT b.day, b.family, b.label, b.region, b.models, NULL, NULL, NULL,
       b.derivatives, b.finetunes, b.adapters, b.quantizations, b.merges, NULL,
       NULL, 'backfill', NULL
FROM backfilled b
WHERE NOT EXISTS (SELECT 1 FROM _family_day d WHERE d.day = b.day AND d.family = b.family);
