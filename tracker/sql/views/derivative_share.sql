-- 009: derivative_share: from the latest census, per month since the first derivative: each family's
-- new derivatives (its descendants created that month), their share of the new derivatives of all
-- tracked families (distinct models; a model of two families counts in both numerators), and their
-- share of all models created that month with any base model. Models deleted since the month are
-- missing: past months are lower bounds.
CREATE OR REPLACE VIEW derivative_share WITH (DEFER_BINDING) AS
SELECT s.month, s.family, s.new_derivatives, s.share, s.share_of_hub
FROM read_parquet('{{warehouse}}/census_share/*/*.parquet', union_by_name = true) s
WHERE {{guard}} AND s.run_id = (SELECT run_id FROM _census_days ORDER BY day DESC LIMIT 1);
