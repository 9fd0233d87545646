-- Internal: per family and day with a complete tree, the summed direct children of its official
-- models per relation, and the 30-day downloads of its ecosystem (a child of two top models counts once).
CREATE OR REPLACE VIEW _family_tree WITH (DEFER_BINDING) AS
WITH t AS (
    SELECT day, family, sum(derivatives)::BIGINT AS derivatives, sum(finetunes)::BIGINT AS finetunes,
           sum(adapters)::BIGINT AS adapters, sum(quantizations)::BIGINT AS quantizations,
           sum(merges)::BIGINT AS merges
    FROM _tree GROUP BY day, family
), eco AS (
    SELECT day, family, sum(downloads_30d)::BIGINT AS ecosystem_downloads_30d
    FROM (SELECT DISTINCT day, family, model_id, downloads_30d FROM _ecosystem)
    GROUP BY day, family
)
SELECT * FROM t LEFT JOIN eco USING (day, family)
WHERE {{guard}};
