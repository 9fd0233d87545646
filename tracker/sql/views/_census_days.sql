-- 006: the whole-Hub census (`tracker census`, or `tracker import` of a hub-stats dump).
-- A census day is visible once its run record is in runs/ with status ok (written last); a killed or
-- failed census leaves only staging chunks, which no view reads. Internal: the census kept for each
-- day (the latest complete one of that day).
CREATE OR REPLACE VIEW _census_days WITH (DEFER_BINDING) AS
SELECT s.day, s.run_id, s.source
FROM read_parquet('{{warehouse}}/census_stats/*/*.parquet', union_by_name = true) s
WHERE {{guard}} AND s.run_id IN (SELECT run_id FROM runs WHERE status = 'ok')
QUALIFY row_number() OVER (PARTITION BY s.day ORDER BY s.run_id DESC) = 1;
