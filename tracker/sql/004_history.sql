-- 004: history on day one. `tracker import` stores archived listings as snapshots of their own date
-- (runs with job 'import'); `tracker backfill` reconstructs the number of official models and of
-- derivatives per relation from creation dates (backfill/). family_daily gains `source`: 'snapshot'
-- (a collect), 'import' or 'backfill'. A collected snapshot always wins over an imported one for the
-- same day and family, and both win over a backfilled value: nothing observed is ever overwritten.

CREATE OR REPLACE VIEW _family_day AS
SELECT f.*, r.job
FROM read_parquet('{{warehouse}}/family_snapshots/*/*.parquet', union_by_name = true) f
JOIN runs r USING (run_id)
WHERE r.status IN ('ok', 'partial')
QUALIFY row_number() OVER (PARTITION BY f.day, f.family
                           ORDER BY r.job = 'import', f.taken_at DESC, f.run_id DESC) = 1;

CREATE OR REPLACE VIEW family_daily AS
WITH backfilled AS (
    SELECT *
    FROM read_parquet('{{warehouse}}/backfill/*/*.parquet', union_by_name = true)
    QUALIFY row_number() OVER (PARTITION BY day, family ORDER BY computed_on DESC, run_id DESC) = 1
)
SELECT d.day, d.family, d.label, d.region, d.models, d.downloads_30d, d.downloads_all_time, d.likes,
       t.derivatives, t.finetunes, t.adapters, t.quantizations, t.merges, t.ecosystem_downloads_30d,
       d.downloads_interval / d.interval_days AS downloads_day,
       CASE d.job WHEN 'import' THEN 'import' ELSE 'snapshot' END AS source
FROM _family_day d LEFT JOIN _family_tree t USING (day, family)
UNION ALL
SELECT b.day, b.family, b.label, b.region, b.models, NULL, NULL, NULL,
       b.derivatives, b.finetunes, b.adapters, b.quantizations, b.merges, NULL,
       NULL, 'backfill'
FROM backfilled b
WHERE NOT EXISTS (SELECT 1 FROM _family_day d WHERE d.day = b.day AND d.family = b.family);
