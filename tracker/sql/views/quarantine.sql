-- Records the Hub sent that could not be stored as they were, with the record as JSON.
CREATE OR REPLACE VIEW quarantine WITH (DEFER_BINDING) AS
SELECT q.run_id, q.family, q.model_id, q.reason, q.raw
FROM (SELECT run_id FROM runs) r
JOIN _files('quarantine') q USING (run_id)
WHERE {{guard}};
