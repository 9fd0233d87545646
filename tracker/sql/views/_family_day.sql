-- Internal: each family's last successful snapshot of each day, with every stored column. A collected
-- snapshot wins over an imported one of the same day and family.
CREATE OR REPLACE VIEW _family_day WITH (DEFER_BINDING) AS
SELECT f.*, r.job
FROM runs r
JOIN _files('family_snapshots') f USING (run_id)
WHERE r.status IN ('ok', 'partial') AND {{guard}}
QUALIFY row_number() OVER (PARTITION BY f.day, f.family
                           ORDER BY r.job = 'import', f.taken_at DESC, f.run_id DESC) = 1;
