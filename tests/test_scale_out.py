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
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import ROOT, write_config
from tracker import config, export as export_mod, jobs
from tracker.cli import cli
from tracker.hubsim import HubSim, World

README_PATH = "/data/export"  # the path the README's blocks use; the only thing the tests replace
FAMS = [{"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
        {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"}]
DAY10, DAY11, DAY12 = dt.date(2026, 8, 10), dt.date(2026, 8, 11), dt.date(2026, 8, 12)


# ---------------------------------------------------------------- the README's blocks

def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Scale-out: Spark, Trino, Polars")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def blocks(lang: str, first_line: str) -> list[str]:
    """The fenced blocks of the scale-out section in `lang` whose first line starts with `first_line`."""
    found = re.findall(rf"```{lang}\n(.*?)```", section(), flags=re.S)
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
    world = World(seed=8, models=400, now="2026-08-10T06:00:00Z")
    with HubSim(world) as hub:
        (root / "b").mkdir()
        settings = config.load(write_config(root / "b", hub.endpoint, FAMS))
        for at in ("2026-08-10T06:00", "2026-08-11T06:00", "A", "2026-08-11T18:00", "2026-08-12T06:00"):
            if at == "A":  # state A: a copy of the warehouse as it is now (its views re-point to the copy)
                shutil.copytree(root / "b" / "warehouse", root / "a" / "warehouse")
                doc = yaml.safe_load(h.cfg_b.read_text())
                doc["warehouse"] = str(root / "a" / "warehouse")
                h.cfg_a.write_text(yaml.safe_dump(doc))
                continue
            world.set_time(dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC))
            assert jobs.collect(settings, now=world.now, show_progress=False)["status"] == "ok"
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
    return cols, [tuple(_cell(kinds[c], v) for c, v in zip(cols, row)) for row in df.itertuples(index=False)]


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
    session = (SparkSession.builder.master("local[2]").appName("hub-tracker-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.catalogImplementation", "in-memory")
               .config("spark.sql.warehouse.dir", str(tmp / "warehouse")).config("spark.local.dir", str(tmp))
               .config("spark.sql.session.timeZone", "UTC").config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.memory", "1g").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


SPARK_KINDS = {"LongType": "int", "IntegerType": "int", "DoubleType": "float", "StringType": "str",
               "DateType": "date", "TimestampType": "ts"}


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


@pytest.mark.slow
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
    assert {f.name: f.dataType.simpleString() for f in spark.table("snapshots").schema.fields}["taken_at"] == "timestamp"
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
