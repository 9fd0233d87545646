-- Renames. When a model leaves a family's listing, the collect asks the Hub for it by its old
-- id; a redirect to another id is a rename (or a transfer): the pair is kept here, and the model's
-- series continues under its old key (snapshots show the id valid at each snapshot's time).
CREATE OR REPLACE VIEW model_aliases WITH (DEFER_BINDING) AS
SELECT old_id, new_id, min(detected_on) AS detected_on
FROM (SELECT run_id FROM runs WHERE status IN ('ok', 'partial')) r
JOIN _files('aliases') a USING (run_id)
WHERE {{guard}}
GROUP BY old_id, new_id;
