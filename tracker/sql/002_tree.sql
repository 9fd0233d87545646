-- 002: the model tree (`tracker tree`): per official model and day, its direct derivatives per relation;
-- the community children of each family's top models (`ecosystem`); family_daily gains the sums.
--
-- A tree run stores model_info answers in chunks as it goes (tree_parts), so an interrupted run keeps
-- what it fetched. A family's day becomes visible only when a run has every one of its official
-- models and writes the family's member list (tree_members): nothing half-fetched looks complete.

CREATE OR REPLACE VIEW tree AS
WITH members AS (
    SELECT day, family, model_id
    FROM read_parquet('{{warehouse}}/tree_members/*/*.parquet', union_by_name = true)
    WHERE {{guard}}
    QUALIFY dense_rank() OVER (PARTITION BY day, family ORDER BY run_id DESC) = 1
), parts AS (
    SELECT *
    FROM read_parquet('{{warehouse}}/tree_parts/*/*.parquet', union_by_name = true)
    QUALIFY row_number() OVER (PARTITION BY day, model_id ORDER BY taken_at DESC) = 1
)
SELECT p.run_id, p.taken_at, m.day, m.family, m.model_id, p.finetunes, p.adapters, p.quantizations,
       p.merges, p.derivatives, p.status
FROM members m JOIN parts p ON p.day = m.day AND p.model_id = m.model_id;

CREATE OR REPLACE VIEW ecosystem AS
WITH complete AS (
    SELECT DISTINCT run_id, day, family
    FROM read_parquet('{{warehouse}}/tree_members/*/*.parquet', union_by_name = true)
    QUALIFY dense_rank() OVER (PARTITION BY day, family ORDER BY run_id DESC) = 1
)
SELECT e.day, e.family, e.base_model_id, e.relation, e.model_id, e.author, e.downloads_30d,
       e.downloads_all_time, e.likes
FROM read_parquet('{{warehouse}}/ecosystem/*/*.parquet', union_by_name = true) e
JOIN complete c ON c.run_id = e.run_id AND c.day = e.day AND c.family = e.family;

-- Internal: per family and day with a complete tree, the summed direct children of its official
-- models per relation, and the 30-day downloads of its ecosystem (a child of two top models counts once).
CREATE OR REPLACE VIEW _family_tree AS
WITH t AS (
    SELECT day, family, sum(derivatives)::BIGINT AS derivatives, sum(finetunes)::BIGINT AS finetunes,
           sum(adapters)::BIGINT AS adapters, sum(quantizations)::BIGINT AS quantizations,
           sum(merges)::BIGINT AS merges
    FROM tree GROUP BY day, family
), eco AS (
    SELECT day, family, sum(downloads_30d)::BIGINT AS ecosystem_downloads_30d
    FROM (SELECT DISTINCT day, family, model_id, downloads_30d FROM ecosystem)
    GROUP BY day, family
)
SELECT * FROM t LEFT JOIN eco USING (day, family);

CREATE OR REPLACE VIEW family_daily AS
SELECT d.day, d.family, d.label, d.region, d.models, d.downloads_30d, d.downloads_all_time, d.likes,
       t.derivatives, t.finetunes, t.adapters, t.quantizations, t.merges, t.ecosystem_downloads_30d
FROM _family_day d LEFT JOIN _family_tree t USING (day, family);
