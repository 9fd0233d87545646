-- Internal: the compaction state, one row per file it names (see the README, "Compaction"): a merged
-- file is visible once a state file adds it; the files it replaced are hidden from then on and deleted
-- later. State files are immutable; several may exist at once and are read together (a hide wins).
CREATE OR REPLACE VIEW _state WITH (DEFER_BINDING) AS
SELECT file, bool_or(action = 'add') AS added, bool_or(action = 'hide') AS hidden
FROM read_parquet('{{warehouse}}/_compaction/*.parquet', union_by_name = true)
WHERE {{guard}}
GROUP BY file;
