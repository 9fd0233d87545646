-- Every day on which a family moved ahead of another in a metric (derived/crossovers.parquet).
-- family (A) moved ahead of overtaken (B) on day; previous_day is the last snapshot on which A was behind
-- (ties are skipped). reversed: B was ahead again within the next three snapshots; holds_same_models: A is
-- still ahead when each family's change is taken over the models present on both days (NULL: not known);
-- after_stale: a stale day lies between, so "on or before" day; headline: not reversed and holds over the
-- same models.
CREATE OR REPLACE VIEW crossovers WITH (DEFER_BINDING) AS
SELECT day, metric, family, overtaken, family_value, overtaken_value, previous_day, family_previous_value,
       overtaken_previous_value, reversed, reversed_day, holds_same_models, after_stale, headline
FROM read_parquet('{{warehouse}}/derived/crossovers.parquet')
WHERE {{guard}};
