-- Internal: every recorded version of every model's attributes (model key, id, attributes, valid_from),
-- read by the views that resolve snapshot rows to model ids (one name: the tracker reads it once per job
-- where several of them run together).
CREATE OR REPLACE VIEW _models WITH (DEFER_BINDING) AS
SELECT *
FROM _files('models')
WHERE {{guard}};
