-- Internal: each model key's model id. A key is handed out once per model id and never changes, so a
-- snapshot row always finds its model id, whatever order history was written in.
CREATE OR REPLACE VIEW _model_keys AS
SELECT DISTINCT model_key, model_id
FROM _files('models')
WHERE {{guard}};
