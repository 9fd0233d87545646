-- Internal: snapshot rows of a relation (by name: a view, or rows the tracker registered) with their
-- model id and attributes. The model id comes from the key (never lost, whatever order history was
-- written in); the attributes are the ones recorded at or before the snapshot, else the earliest recorded.
CREATE OR REPLACE MACRO _resolve(rows) AS TABLE
SELECT s.run_id, s.taken_at, s.day, s.family, k.model_id,
       CASE WHEN m.model_key IS NULL THEN f.author ELSE m.author END AS author,
       s.downloads_30d, s.downloads_all_time, s.likes, s.trending_score,
       CASE WHEN m.model_key IS NULL THEN f.created_at ELSE m.created_at END AS created_at,
       CASE WHEN m.model_key IS NULL THEN f.last_modified ELSE m.last_modified END AS last_modified,
       CASE WHEN m.model_key IS NULL THEN f.pipeline_tag ELSE m.pipeline_tag END AS pipeline_tag,
       CASE WHEN m.model_key IS NULL THEN f.library_name ELSE m.library_name END AS library_name,
       CASE WHEN m.model_key IS NULL THEN f.gated ELSE m.gated END AS gated
FROM query_table(rows) s
JOIN _model_keys k USING (model_key)
ASOF LEFT JOIN _files('models') m ON s.model_key = m.model_key AND s.taken_at >= m.valid_from
LEFT JOIN _model_first f ON f.model_key = s.model_key
WHERE {{guard}};
