-- Internal: the model tree over the raw answers (served as `tree`). A tree run stores model_info
-- answers in chunks as it goes (tree_parts); a family's day counts only once a run has every one of
-- its official models and wrote the family's member list (tree_members).
CREATE OR REPLACE VIEW _tree WITH (DEFER_BINDING) AS
WITH members AS (
    SELECT day, family, model_id
    FROM _files('tree_members')
    QUALIFY dense_rank() OVER (PARTITION BY day, family ORDER BY run_id DESC) = 1
), parts AS (
    SELECT *
    FROM _files('tree_parts')
    QUALIFY row_number() OVER (PARTITION BY day, model_id ORDER BY taken_at DESC) = 1
)
SELECT p.run_id, p.taken_at, m.day, m.family, m.model_id, p.finetunes, p.adapters, p.quantizations,
       p.merges, p.derivatives, p.status
FROM members m JOIN parts p ON p.day = m.day AND p.model_id = m.model_id
WHERE {{guard}};
