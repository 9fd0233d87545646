-- 004: history on day one. `tracker import` stores archived listings as snapshots of their own date
-- (runs with job 'import'); `tracker backfill` reconstructs the number of official models and of
-- derivatives per relation from creation dates (backfill/). family_daily gains `source`: 'snapshot'
-- (a collect), 'import' or 'backfill'. A collected snapshot always wins over an imported one for the
-- same day and family, and both win over a backfilled value: nothing observed is ever overwritten.

CREATE OR REPLACE VIEW family_daily AS
WITH snap AS (
    SELECT f.day, f.family, f.label, f.region, f.models, f.downloads_30d, f.downloads_all_time, f.likes,
           f.downloads_interval / f.interval_days AS downloads_day,
           CASE r.job WHEN 'import' THEN 'import' ELSE 'snapshot' END AS source
    FROM read_parquet('{{warehouse}}/family_snapshots/*/*.parquet', union_by_name = true) f
    JOIN runs r USING (run_id)
    WHERE r.status IN ('ok', 'partial')
    QUALIFY row_number() OVER (PARTITION BY f.day, f.family
                               ORDER BY r.job = 'import', f.taken_at DESC, f.run_id DESC) = 1
), t AS (
    SELECT day, family, sum(derivatives)::BIGINT AS derivatives, sum(finetunes)::BIGINT AS finetunes,
           sum(adapters)::BIGINT AS adapters, sum(quantizations)::BIGINT AS quantizations,
           sum(merges)::BIGINT AS merges
    FROM tree GROUP BY day, family
), eco AS (  -- a child of two top models (a merge) counts once
    SELECT day, family, sum(downloads_30d)::BIGINT AS ecosystem_downloads_30d
    FROM (SELECT DISTINCT day, family, model_id, downloads_30d FROM ecosystem)
    GROUP BY day, family
), bf AS (
    SELECT *
    FROM read_parquet('{{warehouse}}/backfill/*/*.parquet', union_by_name = true)
    QUALIFY row_number() OVER (PARTITION BY day, family ORDER BY computed_on DESC, run_id DESC) = 1
)
SELECT s.day, s.family, s.label, s.region, s.models, s.downloads_30d, s.downloads_all_time, s.likes,
       t.derivatives, t.finetunes, t.adapters, t.quantizations, t.merges, eco.ecosystem_downloads_30d,
       s.downloads_day, s.source
FROM snap s
LEFT JOIN t USING (day, family)
LEFT JOIN eco USING (day, family)
UNION ALL
SELECT b.day, b.family, b.label, b.region, b.models, NULL, NULL, NULL,
       b.derivatives, b.finetunes, b.adapters, b.quantizations, b.merges, NULL,
       NULL, 'backfill'
FROM bf b
WHERE NOT EXISTS (SELECT 1 FROM snap s WHERE s.day = b.day AND s.family = b.family);
