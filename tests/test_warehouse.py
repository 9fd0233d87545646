"""The warehouse's stable interface: view names and columns (by DESCRIBE), one .sql file per view in a
declared order, every view guarded against a moved or copied warehouse, the user's own objects kept."""

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import structlog.testing
from click.testing import CliRunner

from tests import forked
from tests.conftest import write_config
from tracker import config, jobs
from tracker.cli import cli
from tracker.warehouse import Warehouse, layout, new_run_id, run_job, view_files

VIEWS = {
    "runs": "run_id job started_at finished_at status families_ok families_failed models requests retries error",
    "snapshots": "run_id taken_at day family model_id author downloads_30d downloads_all_time likes trending_score "
    "created_at last_modified pipeline_tag library_name gated parameters",
    "models_latest": "run_id taken_at day family model_id author downloads_30d downloads_all_time likes "
    "trending_score created_at last_modified pipeline_tag library_name gated parameters",
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
SQL = Path(__file__).resolve().parents[1] / "tracker" / "sql" / "views"


@pytest.fixture(scope="module")
def empty_wh(tmp_path_factory) -> Warehouse:
    """A new, empty warehouse, shared by the tests that only read it (they copy it to change it)."""
    wh = Warehouse(tmp_path_factory.mktemp("empty") / "wh")
    wh.ensure()
    return wh


def test_views_have_the_documented_columns(empty_wh):
    wh = empty_wh
    for view, cols in VIEWS.items():
        got = list(wh.query(f"describe {view}").column_name)
        assert got == cols.split(), view
    weekly = list(wh.query("describe family_weekly").column_name)
    assert weekly[:5] == ["week", "week_start", "family", "label", "region"]
    for m in ("models", "downloads_30d", "downloads_all_time", "likes", "derivatives", "downloads_week"):
        assert [m, f"{m}_wow", f"{m}_wow_pct", f"{m}_wow_same", f"{m}_wow_pct_same", f"{m}_share"] == weekly[
            weekly.index(m) : weekly.index(m) + 6
        ]
    assert weekly[-4:] == ["models_new", "models_entered", "models_left", "downloads_week_days"]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for view in [*VIEWS, "family_weekly"]:
        assert f"`{view}`" in readme, f"{view} is not documented in the README"


def test_one_file_per_view_in_the_declared_order():
    order = [ln.strip() for ln in (SQL / "ORDER").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert sorted(order) == sorted(p.stem for p in SQL.glob("*.sql"))  # each file listed once, nothing else
    defined = []
    for name, text in view_files():
        made = re.findall(r"CREATE OR REPLACE (?:VIEW|MACRO) (\w+)", text)
        assert made == [name], f"{name}.sql must define exactly the view {name}, not {made}"
        if "CREATE OR REPLACE VIEW" in text:  # bound when read, not at creation too (README, hub.duckdb)
            assert f"CREATE OR REPLACE VIEW {name} WITH (DEFER_BINDING) AS" in text, name
        defined.append(name)
        # a view uses only views defined above it (the order is what makes it valid)
        for other in order:
            body = re.sub(r"'[^']*'", "''", re.sub(r"--[^\n]*", "", text)).split(" AS", 1)[1]  # code only
            if other != name and re.search(rf"\b{other}\b", body):
                assert other in defined, f"{name} uses {other}, which comes later in ORDER"
    assert defined == order


def test_views_are_written_once_and_not_again(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    wh.ensure()
    with wh.connect() as con:  # hub.duckdb itself
        names = [r[0] for r in con.sql("select name from _tracker_views order by name").fetchall()]
    assert sorted(names) == sorted(layout.hub_views())
    before = os.stat(wh.db_path).st_mtime_ns
    assert layout.is_current(wh.db_path, wh.root)
    Warehouse(tmp_path / "wh").ensure()
    code, output = forked.run_command(["status", "--config", str(_config(tmp_path))])  # a new process opens it
    assert code == 0, output
    assert os.stat(wh.db_path).st_mtime_ns == before  # not rewritten


def test_an_older_hub_duckdb_loses_the_internal_views_it_no_longer_holds_and_keeps_the_users(tmp_path):
    """A hub.duckdb of a version that put every view in it (`_family_daily`, `_tree`, ... too): the
    update drops those, keeps a table of the user's, and the documented views still answer."""
    wh = Warehouse(tmp_path / "wh")
    wh.ensure()
    only_internal = [n for n, _ in view_files() if n not in layout.hub_views()]
    assert "_family_daily" in only_internal and all(n.startswith("_") for n in only_internal)
    with duckdb.connect(str(wh.db_path)) as con:  # as the older version left it
        guard = layout.guard_sql(wh.root, wh.db_path)
        for name, text in view_files():
            if name in only_internal:
                con.execute(layout.render(text, wh.root, guard))
                con.execute("INSERT INTO _tracker_views VALUES (?, ?)", [name, layout.digest(text)])
        con.execute("CREATE TABLE my_notes AS SELECT 'qwen' AS family, 'watch it' AS note")
    assert not layout.is_current(wh.db_path, wh.root)
    layout.update(wh.root, wh.db_path)
    assert layout.is_current(wh.db_path, wh.root)
    with duckdb.connect(str(wh.db_path), read_only=True) as con:
        names = {r[0] for r in con.sql("select view_name from duckdb_views() where not internal").fetchall()}
        names |= {
            r[0]
            for r in con.sql(
                "select function_name from duckdb_functions() where function_type = 'table_macro' and not internal"
            ).fetchall()
        }
        assert names == set(layout.hub_views())
        assert con.sql("select note from my_notes").fetchall() == [("watch it",)]
        assert con.sql("select count(*) from family_daily").fetchall() == [(0,)]


def _config(tmp_path: Path) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(f"warehouse: {tmp_path / 'wh'}\nfamilies:\n  - {{name: qwen, authors: [Qwen], region: china}}\n")
    return p


def test_every_view_of_a_copied_warehouse_stops_with_the_moved_error(tmp_path, empty_wh):
    wh = empty_wh
    shutil.copytree(wh.root, tmp_path / "copy")
    with duckdb.connect(str(tmp_path / "copy" / "hub.duckdb"), read_only=True) as con:
        views = [
            r[0]
            for r in con.execute(
                "select view_name from duckdb_views() where database_name = 'hub' and not internal"
            ).fetchall()
        ]
        macros = [
            r[0]
            for r in con.execute(
                "select distinct function_name from duckdb_functions() where database_name = 'hub' "
                "and function_type = 'table_macro'"
            ).fetchall()
        ]
        assert set(views) | set(macros) == set(layout.hub_views())
        for v in views:
            with pytest.raises(duckdb.Error, match="has been moved or copied"):
                con.execute(f'select * from "{v}" limit 1').fetchall()
        with pytest.raises(duckdb.Error, match="has been moved or copied"):
            con.execute("select * from _files('runs')").fetchall()
        with pytest.raises(duckdb.Error, match="has been moved or copied"):
            con.execute("select * from _resolve('_snapshot_rows')").fetchall()
    # any tracker command re-points the copy; the original is untouched
    assert Warehouse(tmp_path / "copy").query("select count(*) n from family_weekly").n[0] == 0


USER_OBJECTS = {
    "mine": "create table mine as select 42 as answer",
    "my_view": "create view my_view as select family, models from family_daily",
    "twice": "create macro twice(x) as x * 2",
}


def _add_user_objects(db: Path) -> None:
    with duckdb.connect(str(db)) as con:
        for sql in USER_OBJECTS.values():
            con.execute(sql)


def _check_user_objects(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select answer from mine").fetchall() == [(42,)]
        assert con.execute("select twice(21)").fetchall() == [(42,)]
        con.execute("select * from my_view").fetchall()


@contextlib.contextmanager
def _reader(db: Path):
    """Another process holding hub.duckdb open read-only (as a notebook would), answering queries."""
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); print('ready', flush=True)\n"
        "for line in sys.stdin: print(con.execute(line).fetchall(), flush=True)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


@pytest.mark.trial  # five commands, three rewrites, a reader subprocess
def test_the_users_objects_survive_every_rewrite_of_the_views(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    wh.ensure()
    _add_user_objects(wh.db_path)
    cfg = _config(tmp_path)
    for cmd in (  # the commands' own code, in this process (the views are rewritten below, by hand)
        ["status"],
        ["sql", "select 1"],
        ["compact"],
        ["report", "--week", "2026-W33", "--out", str(tmp_path / "r")],
    ):
        out = CliRunner().invoke(cli, [*cmd, "--config", str(cfg)])
        assert out.exit_code == 0, (cmd, out.output)
        _check_user_objects(wh.db_path)

    def force_rewrite():  # as a new tracker version would: a view's recorded text differs
        with duckdb.connect(str(wh.db_path)) as con:
            con.execute("update _tracker_views set sha256 = 'old' where name = 'runs'")
        assert not layout.is_current(wh.db_path, wh.root)

    # nobody has it open: the views are replaced in place
    force_rewrite()
    layout.update(wh.root, wh.db_path)
    _check_user_objects(wh.db_path)
    assert layout.is_current(wh.db_path, wh.root)
    # a reader holds it (so it cannot be written): a copy is built beside it and renamed over it
    force_rewrite()
    with _reader(wh.db_path) as reader:
        layout.update(wh.root, wh.db_path)
        reader.stdin.write("select answer from mine\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "[(42,)]"  # the reader keeps working on its file
    _check_user_objects(wh.db_path)
    assert layout.is_current(wh.db_path, wh.root)
    # moved: the next command re-points the views, the user's objects move with it
    moved = tmp_path / "elsewhere"
    wh.root.rename(moved)
    Warehouse(moved).ensure()
    _check_user_objects(moved / "hub.duckdb")
    assert layout.is_current(moved / "hub.duckdb", moved)


@pytest.mark.slow
def test_a_session_holding_the_file_for_writing_is_left_alone(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    wh.ensure()
    _add_user_objects(wh.db_path)
    with duckdb.connect(str(wh.db_path)) as con:
        con.execute("update _tracker_views set sha256 = 'old' where name = 'runs'")
    # the user's read-write session, in another process (DuckDB's lock is per process): it holds the file
    # until its stdin is closed; the tracker's update runs here (its libraries already imported)
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
        "con.execute('create table while_open as select 1 as x'); print('ready', flush=True); sys.stdin.read()"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", code, str(wh.db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        with structlog.testing.capture_logs() as logs:
            layout.update(wh.root, wh.db_path)
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    assert writer.returncode == 0
    assert any("open for writing in another process" in e["event"] for e in logs), logs
    assert not layout.is_current(wh.db_path, wh.root)  # left alone: the views are the old ones still
    _check_user_objects(wh.db_path)
    with duckdb.connect(str(wh.db_path), read_only=True) as con:
        assert con.execute("select x from while_open").fetchall() == [(1,)]


@pytest.mark.slow
def test_a_served_table_of_an_older_layout_is_rebuilt_not_left_empty(tmp_path):
    """A served table whose columns changed is rewritten empty on open; if runs exist it must then be
    rebuilt from them, even though the served marker still counts every run."""
    fams = [{"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"}]
    path = write_config(tmp_path, "http://127.0.0.1:9", fams)  # a run from an archived listing: no Hub
    listing = tmp_path / "listing.json"
    models = [{"id": f"Qwen/m{i}", "downloads": 10 + i, "likes": i} for i in range(3)]
    listing.write_text(json.dumps({"date": "2026-08-10", "fetched_at": "2026-08-10T06:00:00Z", "models": models}))
    assert jobs.import_files(config.load(path), [listing], refresh_trends=False)[0]["status"] == "ok"
    served = tmp_path / "warehouse" / "serving" / "family_daily.parquet"
    want = len(Warehouse(tmp_path / "warehouse").read("select * from _family_daily"))
    assert want == 1  # one family, one day
    duckdb.sql(f"copy (select 1 as an_old_column) to '{served}' (format parquet)")  # an older layout's file
    # a new process opens it (the in-process warehouse is known current and would not look again)
    code, output = forked.run_command(
        ["sql", "--config", str(path), "--format", "csv", "--no-headers", "select count(*) from family_daily"]
    )
    assert code == 0, output
    assert output.strip() == str(want)


def test_run_job_reads_the_job_back_from_a_run_id_and_nothing_from_a_stray_name():
    at = dt.datetime(2026, 8, 10, 6, 0, tzinfo=dt.UTC)
    for job in ("collect", "tree", "report", "census", "backfill"):
        assert run_job(new_run_id(job, at)) == job
    assert run_job("20260810T060000Z-import-0123456789ab") == "import"  # an import's id (jobs/snapshot.py)
    for stray in ("notes", "backup-copy", ""):  # a file the user put in runs/: no job, no error
        assert run_job(stray) == ""
