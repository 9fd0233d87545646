-- One row per finished run of any job. A run's files become visible only once its record is in
-- runs/ (written last), so an interrupted run never shows partial data.
CREATE OR REPLACE VIEW runs WITH (DEFER_BINDING) AS
SELECT run_id, job, started_at, finished_at, status, families_ok, families_failed, models, requests,
       retries, error
FROM _files('runs')
WHERE {{guard}};
