-- Internal: the stored snapshot rows (model key + counts) of successful runs.
-- `runs` comes first in FROM: a run's record is listed before the data files it makes visible.
CREATE OR REPLACE VIEW _snapshot_rows WITH (DEFER_BINDING) AS
SELECT s.*
FROM (SELECT run_id FROM runs WHERE status IN ('ok', 'partial')) r
JOIN _files('snapshots') s USING (run_id)
WHERE {{guard}};
