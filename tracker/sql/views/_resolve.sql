-- Internal: snapshot rows of a relation (by name: a view, or rows the tracker registered) with their
-- model id and attributes, as recorded at or before the snapshot, else the earliest recorded. Every key
-- has a first record (written when the key is handed out), so no row is ever without its model id,
-- whatever order history was written in; a renamed model shows the id in force at each snapshot.
CREATE OR REPLACE MACRO _resolve(rows) AS TABLE
SELECT s.run_id, s.taken_at, s.day, s.family,
       CASE WHEN m.model_key IS NULL THEN f.model_id ELSE m.model_id END AS model_id,
       CASE WHEN m.model_key IS NULL THEN f.author ELSE m.author END AS author,
       s.downloads_30d, s.downloads_all_time, s.likes, s.trending_score,
       CASE WHEN m.model_key IS NULL THEN f.created_at ELSE m.created_at END AS created_at,
       CASE WHEN m.model_key IS NULL THEN f.last_modified ELSE m.last_modified END AS last_modified,
       CASE WHEN m.model_key IS NULL THEN f.pipeline_tag ELSE m.pipeline_tag END AS pipeline_tag,
       CASE WHEN m.model_key IS NULL THEN f.library_name ELSE m.library_name END AS library_name,
       CASE WHEN m.model_key IS NULL THEN f.gated ELSE m.gated END AS gated,
       CASE WHEN m.model_key IS NULL THEN f.parameters ELSE m.parameters END AS parameters
FROM query_table(rows) s
ASOF LEFT JOIN _models m ON s.model_key = m.model_key AND s.taken_at >= m.valid_from
JOIN _model_first f ON f.model_key = s.model_key
WHERE {{guard}};
