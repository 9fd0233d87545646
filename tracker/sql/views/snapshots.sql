-- One row per model per successful family snapshot, over every raw row (for audits and export;
-- the documented daily views read small served files instead).
CREATE OR REPLACE VIEW snapshots WITH (DEFER_BINDING) AS
SELECT * FROM _resolve('_snapshot_rows')
WHERE {{guard}};
