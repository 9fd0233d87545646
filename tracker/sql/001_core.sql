-- 001: the core views of a collect: runs, snapshots, models_latest, family_daily, quarantine.
--
-- The data lives in immutable Parquet files under the warehouse folder; hub.duckdb holds only these
-- views. {{warehouse}} is the warehouse folder's absolute path and {{guard}} a check that this
-- hub.duckdb still sits where its views point (see the README: "Moving the warehouse").
-- A run's files become visible only once its record is in runs/ (written last), so an
-- interrupted run never shows partial data.

CREATE OR REPLACE VIEW runs AS
SELECT run_id, job, started_at, finished_at, status, families_ok, families_failed, models, requests,
       retries, error
FROM read_parquet('{{warehouse}}/runs/*/*.parquet', union_by_name = true)
WHERE {{guard}};

-- Daily rows carry a model key and the counts; a model's attributes (id, author, created_at, ...)
-- are stored once per change and joined back as of the snapshot's time.
CREATE OR REPLACE VIEW snapshots AS
SELECT s.run_id, s.taken_at, s.day, s.family, m.model_id, m.author, s.downloads_30d,
       s.downloads_all_time, s.likes, s.trending_score, m.created_at, m.last_modified, m.pipeline_tag,
       m.library_name, m.gated, m.parameters
FROM read_parquet('{{warehouse}}/snapshots/*/*.parquet', union_by_name = true) s
ASOF LEFT JOIN read_parquet('{{warehouse}}/models/*/*.parquet', union_by_name = true) m
     ON s.model_key = m.model_key AND s.taken_at >= m.valid_from
WHERE s.run_id IN (SELECT run_id FROM runs WHERE status IN ('ok', 'partial'));

CREATE OR REPLACE VIEW models_latest AS
SELECT *
FROM snapshots
QUALIFY row_number() OVER (PARTITION BY model_id ORDER BY taken_at DESC, family) = 1;

-- Internal (names starting with _ may change): each family's last successful snapshot of each day,
-- with every stored column.
CREATE OR REPLACE VIEW _family_day AS
SELECT f.*, r.job
FROM read_parquet('{{warehouse}}/family_snapshots/*/*.parquet', union_by_name = true) f
JOIN runs r USING (run_id)
WHERE r.status IN ('ok', 'partial')
QUALIFY row_number() OVER (PARTITION BY f.day, f.family ORDER BY f.taken_at DESC, f.run_id DESC) = 1;

-- One row per family per day: the family's last successful snapshot of that day, summed at collect
-- time over its models (a sum over only NULLs is NULL; a family with no models has models = 0).
CREATE OR REPLACE VIEW family_daily AS
SELECT day, family, label, region, models, downloads_30d, downloads_all_time, likes
FROM _family_day;

CREATE OR REPLACE VIEW quarantine AS
SELECT run_id, family, model_id, reason, raw
FROM read_parquet('{{warehouse}}/quarantine/*/*.parquet', union_by_name = true)
WHERE run_id IN (SELECT run_id FROM runs);
