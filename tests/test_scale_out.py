"""Scale-out: the README's Spark SQL, Polars, DuckDB and Trino blocks, run as written (the path replaced
by a temporary folder) against `tracker export` folders, compared row for row with `tracker sql`;
and the export itself: only changed days written, each day folder whole at every instant.

The history: collects on 2026-08-10 06:00 and 2026-08-11 06:00 (state A), then a second collect of
2026-08-11 at 18:00 and one on 2026-08-12 (state B). So from A to B, by construction: 2026-08-10 is
unchanged, 2026-08-11 changed (its last snapshot is another run), 2026-08-12 is new.

Spark needs pyspark (`pip install -e ".[scale-out]"`) and a Java runtime (Debian
openjdk-17-jre-headless); both are installed by .ci/run. Where absent the Spark tests are skipped with
the reason — except under CI (CI=true), where a missing install is a failure, not a skip.
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import io
import os
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import ROOT, write_config
from tracker import config, jobs
from tracker import export as export_mod
from tracker.cli import cli
from tracker.hubsim import HubSim, World

README_PATH = "/data/export"  # the path the README's blocks use; the only thing the tests replace
FAMS = [
    {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
    {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"},
]


# ---------------------------------------------------------------- the README's blocks


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Scale-out: Spark, Trino, Polars")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def blocks(lang: str, first_line: str) -> list[str]:
    """The fenced blocks of the scale-out section in `lang` whose first line starts with `first_line`."""
    found = re.findall(rf"```{lang}\n(.*?)```", section(), flags=re.DOTALL)
    return [b for b in found if b.startswith(first_line)]


def spark_blocks() -> tuple[str, str, str]:
    table, view, after = blocks("sql", "-- Spark SQL")  # exactly three, in this order
    assert "CREATE TABLE" in table and "TEMPORARY VIEW" in view and "after" in after.splitlines()[0]
    return table, view, after


def statements(block: str, out: Path) -> list[str]:
    """The block's statements, the README's path replaced by `out` (comments stay: engines skip them)."""
    text = block.replace(README_PATH, str(out))
    parts = [p.strip() for p in text.split(";")]
    return [p for p in parts if any(line.strip() and not line.strip().startswith("--") for line in p.splitlines())]


# ---------------------------------------------------------------- the history and `tracker sql`


class History:
    def __init__(self, root: Path):
        self.root = root
        self.cfg_a = root / "a" / "config.yaml"
        self.cfg_b = root / "b" / "config.yaml"


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    root = tmp_path_factory.mktemp("scale_out")
    h = History(root)
    # 20 models in the two families (a snapshot row each a run): every export is a query over them all
    world = World(seed=8, models=60, official={"meta-llama": 8, "Qwen": 12}, now="2026-08-10T06:00:00Z")
    with HubSim(world) as hub:
        (root / "b").mkdir()
        settings = config.load(write_config(root / "b", hub.endpoint, FAMS))
        for at in ("2026-08-10T06:00", "2026-08-11T06:00", "A", "2026-08-11T18:00", "2026-08-12T06:00"):
            if at == "A":  # state A: a copy of the warehouse as it is now (its views re-point to the copy)
                jobs.derive(settings)  # the trend tables, once for the state (not after each collect)
                shutil.copytree(root / "b" / "warehouse", root / "a" / "warehouse")
                doc = yaml.safe_load(h.cfg_b.read_text())
                doc["warehouse"] = str(root / "a" / "warehouse")
                h.cfg_a.write_text(yaml.safe_dump(doc))
                continue
            world.set_time(dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC))
            assert jobs.collect(settings, now=world.now, show_progress=False, refresh_trends=False)["status"] == "ok"
        jobs.derive(settings)  # state B's trend tables
    return h


def invoke(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def run_export(cfg: Path, out: Path, *extra: str) -> str:
    return invoke("export", "--config", str(cfg), "--out", str(out), *extra)


def tracker_sql(cfg: Path, query: str) -> pd.DataFrame:
    """`tracker sql QUERY --csv`, every cell as the text printed."""
    text = invoke("sql", "--config", str(cfg), "--csv", query)
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _cell(kind: str, text: str):
    """A cell of `tracker sql --csv` as a Python value of the engine-side type `kind`."""
    if text == "":
        return None
    if kind == "int":
        return int(decimal.Decimal(text))
    if kind == "float":
        return float(text)
    if kind == "date":
        return dt.date.fromisoformat(text[:10])
    if kind == "ts":
        return pd.Timestamp(text).tz_convert("UTC").to_pydatetime()
    return text


def tracker_rows(cfg: Path, query: str, kinds: dict[str, str]) -> tuple[list[str], list[tuple]]:
    df = tracker_sql(cfg, query)
    cols = list(df.columns)
    return cols, [
        tuple(_cell(kinds[c], v) for c, v in zip(cols, row, strict=True)) for row in df.itertuples(index=False)
    ]


def day_last(cols: list[str]) -> list[str]:
    return [c for c in cols if c != "day"] + ["day"]


# ---------------------------------------------------------------- Spark


def _absent(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; .ci/run must install it (CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local Spark (local[2]) for the whole test session: its start-up takes 10-20 s."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        _absent('pyspark is not installed (pip install -e ".[scale-out]")')
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        _absent("no Java runtime for Spark (Debian: apt-get install openjdk-17-jre-headless)")
    tmp = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("hub-tracker-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", str(tmp / "warehouse"))
        .config("spark.local.dir", str(tmp))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


SPARK_KINDS = {
    "LongType": "int",
    "IntegerType": "int",
    "DoubleType": "float",
    "StringType": "str",
    "DateType": "date",
    "TimestampType": "ts",
}


def spark_rows(spark, query: str) -> tuple[list[str], dict[str, str], list[tuple]]:
    df = spark.sql(query)
    kinds = {f.name: SPARK_KINDS[type(f.dataType).__name__] for f in df.schema.fields}
    rows = [tuple(v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v for v in r) for r in df.collect()]
    return df.columns, kinds, rows


def run_block(spark, block: str, out: Path):
    """Run every statement of a README block; return the last one's result (columns, kinds, rows)."""
    sts = statements(block, out)
    for st in sts[:-1]:
        spark.sql(st).collect()
    return sts[-1], spark_rows(spark, sts[-1])


def assert_spark_matches_tracker(spark, cfg: Path, out: Path, blocks_to_check: list[str], session=None):
    s = session or spark
    for block in blocks_to_check:
        query = statements(block, out)[-1]
        cols, kinds, got = spark_rows(s, query)
        want_cols, want = tracker_rows(cfg, query, kinds)
        assert cols == want_cols and got == want, (query, got[:3], want[:3])
    for view, name in (("family_daily", "family_daily"), ("snapshots", "snapshots")):
        cols, kinds, got = spark_rows(s, f"SELECT * FROM {name}")
        want_cols, want = tracker_rows(cfg, f"select * from {view}", kinds)
        assert cols == day_last(want_cols), cols  # the export's order: the view's, day last
        want = [tuple(r[want_cols.index(c)] for c in cols) for r in want]
        assert len(got) == len(want) > 0
        assert collections.Counter(got) == collections.Counter(want), view


@pytest.mark.heavy
def test_spark_reads_the_readme_blocks_fresh_and_after_an_incremental_export(history, spark, tmp_path):
    table, view, after = spark_blocks()
    out = tmp_path / "export"
    run_export(history.cfg_a, out)
    run_block(spark, table, out)  # CREATE TABLE, MSCK REPAIR TABLE, SELECT
    run_block(spark, view, out)  # CREATE TEMPORARY VIEW, SELECT
    assert_spark_matches_tracker(spark, history.cfg_a, out, [table, view])

    # the types the README promises
    schema = {f.name: f.dataType.simpleString() for f in spark.table("family_daily").schema.fields}
    assert schema["day"] == "date" and schema["models"] == "bigint" and schema["downloads_day"] == "double"
    assert {f.name: f.dataType.simpleString() for f in spark.table("snapshots").schema.fields}[
        "taken_at"
    ] == "timestamp"
    assert [r[0] for r in spark.sql("SHOW PARTITIONS family_daily").collect()] == ["day=2026-08-10", "day=2026-08-11"]

    # a second, incremental export (day 11 rewritten, day 12 new) is invisible to the table until the
    # README's "after each later export" block runs
    text = run_export(history.cfg_b, out, "--since", "2026-08-11")
    assert "family_daily: 2 days written (1 new, 1 changed" in text, text
    assert "day=2026-08-12" not in {r[0] for r in spark.sql("SHOW PARTITIONS family_daily").collect()}
    for st in statements(after, out):
        spark.sql(st).collect()
    assert_spark_matches_tracker(spark, history.cfg_b, out, [table, view])

    # a new session sees the latest export through the temporary view with no refresh at all
    fresh = spark.newSession()
    run_block(fresh, view, out)
    assert_spark_matches_tracker(spark, history.cfg_b, out, [view], session=fresh)


# ---------------------------------------------------------------- Polars, DuckDB, Trino

POLARS_KINDS = {"Int64": "int", "Int32": "int", "Float64": "float", "String": "str", "Date": "date", "Datetime": "ts"}


def polars_rows(frame) -> tuple[list[str], dict[str, str], list[tuple]]:
    kinds = {name: POLARS_KINDS[type(t).__name__] for name, t in frame.schema.items()}
    return frame.columns, kinds, [tuple(r) for r in frame.iter_rows()]


def _polars():
    try:
        import polars
    except ImportError:
        _absent('polars is not installed (pip install -e ".[scale-out]")')
    return polars


@pytest.mark.slow
def test_polars_and_duckdb_read_the_readme_blocks_fresh_and_after_an_incremental_export(history, tmp_path):
    _polars()
    (py_block,) = blocks("python", "import polars")
    (duck_block,) = blocks("sql", "-- DuckDB")
    out = tmp_path / "export"
    for cfg, extra in ((history.cfg_a, ()), (history.cfg_b, ("--since", "2026-08-11"))):
        run_export(cfg, out, *extra)
        ns: dict = {}
        code = compile(py_block.replace(README_PATH, str(out)), "README.md (Polars block)", "exec")
        exec(code, ns)  # noqa: S102 - the README's own code, run as a user would
        # `latest`: the last day's rows, by family
        cols, kinds, got = polars_rows(ns["latest"])
        want_cols, want = tracker_rows(
            cfg, "select * from family_daily where day = (select max(day) from family_daily) order by family", kinds
        )
        assert cols == day_last(want_cols)
        assert got == [tuple(r[want_cols.index(c)] for c in cols) for r in want] and len(got) == 2
        # and the whole table, every row
        cols, kinds, got = polars_rows(ns["family_daily"].collect())
        want_cols, want = tracker_rows(cfg, "select * from family_daily", kinds)
        assert cols == day_last(want_cols)
        want = [tuple(r[want_cols.index(c)] for c in cols) for r in want]
        assert collections.Counter(got) == collections.Counter(want) and len(got) == len(want) > 0

        (query,) = statements(duck_block, out)
        with duckdb.connect() as con:
            rel = con.sql(query)
            got_df = rel.df()
        kinds = dict.fromkeys(got_df.columns, "str")  # compared as text: both sides printed by pandas
        want_df = tracker_sql(cfg, "select * from family_daily order by day, family")
        assert list(got_df.columns) == day_last(list(want_df.columns))
        got_text = pd.read_csv(io.StringIO(got_df.to_csv(index=False)), dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(got_text, want_df[list(got_df.columns)])


TRINO_TYPES = {
    "varchar": ("string", "large_string"),
    "bigint": ("int64",),
    "double": ("double",),
    "date": ("date32[day]",),
    "integer": ("int32",),
}


@pytest.mark.slow
def test_trino_table_in_the_readme_has_the_exported_columns_and_types(history, tmp_path):
    """No Trino here: its CREATE TABLE is checked against the exported files' schema (names, order, types)."""
    (block,) = blocks("sql", "-- Trino")
    cols_text = re.search(r"CREATE TABLE hive\.hub\.family_daily \((.*?)\)\s*WITH", block, flags=re.DOTALL).group(1)
    declared = [tuple(c.split()) for c in " ".join(cols_text.split()).split(", ")]
    assert "partitioned_by = ARRAY['day']" in block and declared[-1] == ("day", "date")
    out = tmp_path / "export"
    run_export(history.cfg_a, out)
    (part,) = (out / "family_daily" / "day=2026-08-10").iterdir()
    schema = pq.read_schema(part)
    assert [n for n, _t in declared] == [*schema.names, "day"]  # the export's order: day last
    for (name, ttype), field in zip(declared[:-1], schema, strict=True):  # day is the partition, not in the file
        assert str(field.type) in TRINO_TYPES[ttype], (name, ttype, field.type)


# ---------------------------------------------------------------- the export itself


def files(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Each day folder: its one file's name, inode and modification time."""
    out = {}
    for d in sorted(folder.iterdir()):
        (f,) = d.iterdir()
        out[d.name] = (f.name, f.stat().st_ino, f.stat().st_mtime_ns)
    return out


@pytest.mark.slow
def test_export_writes_only_the_days_that_changed(history, tmp_path):
    out = tmp_path / "export"
    text = run_export(history.cfg_a, out)
    assert "snapshots: 2 days written (2 new, 0 changed" in text and "0 unchanged" in text
    before = {v: files(out / v) for v in ("snapshots", "family_daily")}
    assert list(before["snapshots"]) == ["day=2026-08-10", "day=2026-08-11"]
    assert run_export(history.cfg_a, out).count("0 days written (0 new, 0 changed, 0 rows), 2 unchanged") == 2

    text = run_export(history.cfg_b, out)
    for view in ("snapshots", "family_daily"):
        assert f"{view}: 2 days written (1 new, 1 changed" in text and "1 unchanged" in text, text
        after = files(out / view)
        assert after["day=2026-08-10"] == before[view]["day=2026-08-10"]  # the same file, not rewritten
        assert after["day=2026-08-11"][0] != before[view]["day=2026-08-11"][0]  # rewritten: another fingerprint
        assert list(after) == ["day=2026-08-10", "day=2026-08-11", "day=2026-08-12"]
    assert not (out / export_mod.STAGING).exists()

    # --since leaves older day folders as they are: from A's export, only 2026-08-12 is looked at
    out2 = tmp_path / "since"
    run_export(history.cfg_a, out2)
    old = files(out2 / "snapshots")
    text = run_export(history.cfg_b, out2, "--since", "2026-08-12")
    assert "snapshots: 1 days written (1 new, 0 changed" in text and "0 unchanged" in text, text
    assert files(out2 / "snapshots")["day=2026-08-11"] == old["day=2026-08-11"]


@pytest.mark.slow
def test_a_day_the_view_no_longer_has_is_removed(history, tmp_path):
    out = tmp_path / "export"
    run_export(history.cfg_b, out)
    stray = out / "family_daily" / "day=2026-07-01"
    shutil.copytree(out / "family_daily" / "day=2026-08-10", stray)
    text = run_export(history.cfg_b, out, "--since", "2026-07-01")
    assert "1 removed" in text and not stray.exists()


class Crash(BaseException):
    """Stands for a kill: no handler of the export catches it and nothing of it runs after."""


def day_contents(folder: Path) -> dict[str, pa.Table]:
    """Each day folder's rows (all its files), in a fixed order (compared as Arrow tables: values and
    types, no conversion to pandas)."""
    out = {}
    for d in sorted(folder.iterdir()):
        table = pq.read_table(d)
        out[d.name] = table.sort_by([(c, "ascending") for c in table.column_names])
    return out


@pytest.fixture(scope="module")
def exported(history, tmp_path_factory) -> tuple[Path, dict[str, tuple[dict, dict]]]:
    """State A's export (copied, never changed) and every view's day folders of A's and B's exports."""
    root = tmp_path_factory.mktemp("exported")
    ref_a, ref_b = root / "ref-a", root / "ref-b"
    run_export(history.cfg_a, ref_a)
    run_export(history.cfg_b, ref_b)
    return ref_a, {v: (day_contents(ref_a / v), day_contents(ref_b / v)) for v in export_mod.EXPORTS}


@pytest.mark.trial
@pytest.mark.parametrize("exchange", [True, False], ids=["rename-exchange", "two-renames"])
def test_an_export_killed_at_any_step_leaves_every_day_whole(history, exported, tmp_path, monkeypatch, exchange):
    """Crash the export before each rename that changes what a reader sees (one that moves a day folder
    in, out or over another), and once before its first rename of all (the new days staged, their
    files not yet renamed; the renames of files inside the staging folder change nothing a reader
    sees, so a crash before the others proves nothing new): every day folder is then the old export's
    or the new one's, whole; the next export completes it."""
    ref_a, want = exported
    real_rename, real_exchange = os.rename, export_mod.exchange
    wh = export_mod.Warehouse(config.load(history.cfg_b).warehouse)
    if not exchange:
        monkeypatch.setattr(export_mod, "exchange", lambda a, b: False)
    step = 0
    while True:
        out = tmp_path / f"out-{step}"
        shutil.copytree(ref_a, out)
        calls = [0, 0]  # renames of all, crash points passed

        def counted(fn, calls=calls, step=step):
            def wrapper(*a):
                calls[0] += 1
                if calls[0] == 1 or any(export_mod.STAGING not in Path(p).parts for p in a):
                    calls[1] += 1
                    if calls[1] > step:
                        raise Crash
                return fn(*a)

            return wrapper

        monkeypatch.setattr(export_mod.os, "rename", counted(real_rename))
        if exchange:
            monkeypatch.setattr(export_mod, "exchange", counted(real_exchange))
        try:
            export_mod.export(wh, out)
            finished = True
        except Crash:
            finished = False
        monkeypatch.setattr(export_mod.os, "rename", real_rename)
        if exchange:
            monkeypatch.setattr(export_mod, "exchange", real_exchange)
        for recovered in (False, True):
            if recovered:  # what the next export does first: a day moved aside but not replaced goes back
                export_mod.recover(out)
            for view, (old, new) in want.items():
                got = day_contents(out / view)
                for day in old:  # a day the old export had is never missing (two renames: once recovered)...
                    assert day in got or not (exchange or recovered), (step, view, day)
                for day, frame in got.items():  # ...and every day folder is one export's day, whole
                    assert any(day in ref and ref[day].equals(frame) for ref in (old, new)), (step, view, day)
        # the next export finishes the job
        export_mod.export(wh, out)
        for view, (_old, new) in want.items():
            got = day_contents(out / view)
            assert list(got) == list(new) and all(got[d].equals(new[d]) for d in new), (step, view)
        assert not (out / export_mod.STAGING).exists()
        if finished:
            break
        step += 1
    # the crash points were really visited: the first rename, then for each of the 2 views the day
    # changed (swapped in one exchange, or moved aside and replaced: two renames) and the day new
    assert step == 1 + 2 * ((1 if exchange else 2) + 1), step


# ---------------------------------------------------------------- the daemon's `export:` and config


@pytest.mark.trial  # end to end: three of the daemon's collects, each exporting
def test_the_daemons_collect_is_followed_by_an_export_of_the_recent_days(tmp_path):
    world = World(seed=3, models=60, official={"meta-llama": 8, "Qwen": 12}, now="2026-08-10T06:00:00Z")
    with HubSim(world) as hub:
        path = write_config(tmp_path, hub.endpoint, FAMS)
        doc = yaml.safe_load(path.read_text())
        doc["export"] = {"out": "exported", "days": 1}  # the job's day only: 08-10 is outside the second's
        path.write_text(yaml.safe_dump(doc))
        settings = config.load(path)
        assert settings.export.out == tmp_path / "exported" and settings.export.format == "parquet"
        first = None
        for day in (10, 11):
            world.set_time(dt.datetime(2026, 8, day, 6, tzinfo=dt.UTC))
            record = jobs.JOBS["collect"](settings, now=world.now)  # what the daemon runs
            assert record["status"] == "ok"
            first = first or files(tmp_path / "exported" / "snapshots")["day=2026-08-10"]  # the first export's
        days = sorted(p.name for p in (tmp_path / "exported" / "family_daily").iterdir())
        assert days == ["day=2026-08-10", "day=2026-08-11"]
        # the export of 2026-08-11 looked only at 08-11: the 08-10 folder is the first export's, kept
        assert files(tmp_path / "exported" / "snapshots")["day=2026-08-10"] == first

        # an export that cannot be written is logged; the collect's run stays ok and its data stored
        bad = tmp_path / "not-a-folder"
        bad.write_text("x")
        doc["export"] = {"out": str(bad)}
        path.write_text(yaml.safe_dump(doc))
        settings = config.load(path)
        world.set_time(dt.datetime(2026, 8, 12, 6, tzinfo=dt.UTC))
        assert jobs.JOBS["collect"](settings, now=world.now)["status"] == "ok"
    assert files(tmp_path / "exported" / "snapshots")["day=2026-08-10"] == first
    assert "2026-08-12" in tracker_sql(path, "select max(day) as d from family_daily").d[0]


@pytest.mark.parametrize(
    "export, key",
    [
        ({"format": "parquet"}, "export.out: missing required key"),
        ({"out": 5}, "export.out: must be a folder path"),
        ({"out": "x", "format": "xml"}, "export.format: must be parquet or csv"),
        ({"out": "x", "days": 0}, "export.days: must be a whole number"),
        ({"out": "x", "since": 3}, "unknown key 'since'"),
        ("export/", "export: must be a mapping"),
    ],
)
def test_export_config_mistakes_name_the_key(tmp_path, export, key):
    path = write_config(tmp_path, "http://127.0.0.1:1", FAMS)
    doc = yaml.safe_load(path.read_text())
    doc["export"] = export
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(config.ConfigError, match=re.escape(key)):
        config.load(path)


def test_export_command_mistakes_exit_2_with_a_message(tmp_path):
    path = write_config(tmp_path, "http://127.0.0.1:1", FAMS)
    res = CliRunner().invoke(cli, ["export", "--config", str(path)])
    assert res.exit_code == 2 and "--out DIR" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["export", "--config", str(path), "--out", str(tmp_path / "o"), "--since", "08/11"])
    assert res.exit_code == 2 and "--since must be a day such as" in res.output


@pytest.mark.slow
def test_a_view_is_exported_by_adding_its_name(history, tmp_path, monkeypatch):
    """How the census views will be added: a name (and its DATE column) in EXPORTS, nothing else."""
    monkeypatch.setitem(export_mod.EXPORTS, "models_latest", "day")
    out = tmp_path / "export"
    text = run_export(history.cfg_b, out)
    assert "models_latest: " in text, text
    got = duckdb.sql(f"select count(*) from read_parquet('{out}/models_latest/*/*.parquet', hive_partitioning = true)")
    assert got.fetchall()[0][0] == int(tracker_sql(history.cfg_b, "select count(*) as n from models_latest").n[0]) > 0
