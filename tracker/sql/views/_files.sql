-- Internal: the visible rows of one raw dataset, e.g. FROM _files('snapshots').
-- Each run writes <dataset>/<day>/<run_id>.parquet; compaction merges them into
-- <dataset>/<day>/~day-*.parquet and <dataset>/<YYYY-MM>/~month-*.parquet (README, "Compaction").
-- _state comes first in FROM on purpose: DuckDB expands the globs of a query in FROM order, so the
-- state is listed before the data files, and a merged file a state names is always there to read.
CREATE OR REPLACE MACRO _files(dataset) AS TABLE
SELECT t.* EXCLUDE (filename)
FROM _state st
RIGHT JOIN read_parquet('{{warehouse}}/' || dataset || '/*/*.parquet', union_by_name = true, filename = true) t
       ON t.filename = '{{warehouse}}/' || st.file
WHERE {{guard}}
  AND coalesce(NOT st.hidden, true)
  AND (st.added OR NOT contains(t.filename, '/~'));
