-- Internal: the community children of each family's top models, for days with a complete tree
-- (served as `ecosystem`).
CREATE OR REPLACE VIEW _ecosystem WITH (DEFER_BINDING) AS
WITH complete AS (
    SELECT DISTINCT run_id, day, family
    FROM _files('tree_members')
    QUALIFY dense_rank() OVER (PARTITION BY day, family ORDER BY run_id DESC) = 1
)
SELECT e.day, e.family, e.base_model_id, e.relation, e.model_id, e.author, e.downloads_30d,
       e.downloads_all_time, e.likes
FROM complete c
JOIN _files('ecosystem') e ON c.run_id = e.run_id AND c.day = e.day AND c.family = e.family
WHERE {{guard}};
