"""The warehouse's stable interface: view names and columns (by DESCRIBE), migrations applied once."""

import os

from tracker.warehouse import Warehouse, migrations

VIEWS = {
    "runs": "run_id job started_at finished_at status families_ok families_failed models requests retries error",
    "snapshots": "run_id taken_at day family model_id author downloads_30d downloads_all_time likes trending_score "
                 "created_at last_modified pipeline_tag library_name gated parameters",
    "family_daily": "day family label region models downloads_30d downloads_all_time likes derivatives finetunes "
                    "adapters quantizations merges ecosystem_downloads_30d downloads_day source",
    "quarantine": "run_id family model_id reason raw",
    "tree": "run_id taken_at day family model_id finetunes adapters quantizations merges derivatives status",
    "ecosystem": "day family base_model_id relation model_id author downloads_30d downloads_all_time likes",
    "crossovers": "day metric family overtaken family_value overtaken_value previous_day family_previous_value "
                  "overtaken_previous_value reversed reversed_day holds_same_models after_stale headline",
    "model_crossovers": "day metric model_id overtaken model_value overtaken_value previous_day "
                        "model_previous_value overtaken_previous_value reversed reversed_day after_stale headline",
    "projections": "as_of metric family overtaken projected_from projected_to projected_day window_days first_day "
                   "last_day n_points",
    "adoption": "model_id family size_class age_days downloads_all_time relative_adoption release_year parameters "
                "day peers",
    "quality": "day family model_id issue detail",
}


def test_views_have_the_documented_columns(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    for view, cols in VIEWS.items():
        got = list(wh.query(f"describe {view}").column_name)
        assert got == cols.split(), view
    weekly = list(wh.query("describe family_weekly").column_name)
    assert weekly[:5] == ["week", "week_start", "family", "label", "region"]
    for m in ("models", "downloads_30d", "downloads_all_time", "likes", "derivatives", "downloads_week"):
        assert [m, f"{m}_wow", f"{m}_wow_pct", f"{m}_wow_same", f"{m}_wow_pct_same", f"{m}_share"] == \
            weekly[weekly.index(m):weekly.index(m) + 6]
    assert weekly[-4:] == ["models_new", "models_entered", "models_left", "downloads_week_days"]
    readme = (__import__("pathlib").Path(__file__).resolve().parents[1] / "README.md").read_text()
    for view in [*VIEWS, "family_weekly", "models_latest"]:
        assert f"`{view}`" in readme, f"{view} is not documented in the README"


def test_migrations_are_applied_once_and_not_again(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    wh.ensure()
    applied = wh.query("select name from _migrations order by name")
    assert list(applied.name) == [name for name, _ in migrations()]
    before = os.stat(wh.db_path).st_mtime_ns
    assert Warehouse(tmp_path / "wh")._views_stale() is False
    Warehouse(tmp_path / "wh").ensure()
    assert os.stat(wh.db_path).st_mtime_ns == before  # not rebuilt
