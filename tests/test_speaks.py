"""Long work speaks (a wait for the rate limit is said once, in the log and on the progress bar; the
listing bar moves per page), the daemon's clock watch stays at debug, and a report by hand is a run."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import write_config
from tracker import config, jobs, log
from tracker import hub as hubmod
from tracker.cli import cli
from tracker.hubsim import HubSim, World

QWEN = {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"}
WAIT_RE = re.compile(
    r"waiting (\d+\.\d) s for the Hub's rate limit: 12 requests per 1 s anonymous; "
    r"set HF_TOKEN for 1,000"
)


@pytest.fixture(autouse=True)
def _restore_logging():
    """log.configure() here binds the handler to pytest's captured stderr: put the previous one back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="module")
def world():
    return World(seed=3, models=400, official={"Qwen": 25, "meta-llama": 5}, now="2026-08-10T06:00:00Z")


@pytest.fixture(scope="module")
def collected(tmp_path_factory, world) -> Path:
    """The config of a warehouse holding one collect of Qwen at the world's time (trends derived, as a
    daemon's collect does), made once for the tests that only read it; `_copy` for one that writes."""
    base = tmp_path_factory.mktemp("collected")
    with HubSim(world) as hub:
        s = config.load(write_config(base, hub.endpoint, [QWEN]))
        assert jobs.collect(s, now=world.now, show_progress=False)["status"] == "ok"
    return write_config(base, "http://127.0.0.1:9", [QWEN])  # the emulator is gone once it is made


def _copy(collected: Path, tmp_path: Path, endpoint: str = "http://127.0.0.1:9") -> Path:
    """The collected warehouse copied into tmp_path/warehouse, and a config for it (its path)."""
    shutil.copytree(config.load(collected).warehouse, tmp_path / "warehouse")
    return write_config(tmp_path, endpoint, [QWEN])


def test_the_listing_bar_moves_per_page(tmp_path, world):
    n = int((world.snapshot().author == "Qwen").sum())
    assert n > 20
    with HubSim(world) as hub:
        s = config.load(write_config(tmp_path, hub.endpoint, [QWEN], page_size=10))
        steps: list[int] = []
        _recs, listed = hubmod.Hub(s.hub).list_family(s.family("qwen"), progress=steps.append)
    assert listed == n and steps == [10] * (n // 10) + ([n % 10] if n % 10 else [])


@pytest.mark.trial
def test_a_wait_for_the_rate_limit_is_said_once_in_the_log_and_on_the_bar(tmp_path, world, collected, capsys):
    with HubSim(world) as hub:
        s = config.load(_copy(collected, tmp_path, hub.endpoint))  # the tree reads the collect's models
        hub.set_quota(anonymous=12, window_s=1)  # 22 models: 12 requests now, one wait, then the other 10
        capsys.readouterr()
        log.configure(json=True)
        run = jobs.tree(s, now=world.now, show_progress=True, refresh_trends=False)
        err = capsys.readouterr().err
        served = [(round(r["time"], 2), r["status"]) for r in hub.stats.requests if r["route"] == "info"]
    assert run["status"] == "ok" and run["quota_wait_s"] > 0
    # JSON log lines, some printed right after the bar's text on the same terminal line
    events = [json.loads(line[line.index('{"') :]) for line in err.splitlines() if '{"' in line]
    said = [e for e in events if "for the Hub's rate limit" in e["event"]]
    t0 = served[0][0] if served else 0
    assert len(said) == 1, "; ".join(
        [f"{e['event'][:14]} at {e['timestamp'][11:23]}" for e in said] + [f"{t - t0:.2f}:{st}" for t, st in served]
    )  # the requests' times if not
    m = WAIT_RE.fullmatch(said[0]["event"])
    assert m and 0 < float(m.group(1)) <= 1.1, said[0]["event"]  # at most the window (and the pacer's margin)
    assert said[0]["quota"] == 12 and said[0]["window_s"] == 1
    bar = [seg for seg in re.split(r"[\r\n]", err) if seg.startswith("tree:")]
    assert any(said[0]["event"] in seg for seg in bar), bar  # and on the progress bar


def test_the_clock_watch_logs_at_debug(capsys):
    watch = logging.getLogger("apscheduler.executors.watch")
    log.configure(json=True, level="INFO")
    watch.info('Running job "clock watch"')
    logging.getLogger("apscheduler.scheduler").info("Added job")
    err = capsys.readouterr().err
    assert "clock watch" not in err and "Added job" in err
    log.configure(json=True, level="DEBUG")
    watch.info('Running job "clock watch"')
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == 'Running job "clock watch"' and line["level"] == "debug"
    log.configure(json=True, level="INFO")


@pytest.mark.slow  # a collect and a report with charts
def test_a_report_by_hand_is_a_run(tmp_path, collected):
    path = _copy(collected, tmp_path)  # the report writes its run into the warehouse
    r = CliRunner()
    res = r.invoke(
        cli,
        [
            "report",
            "--config",
            str(path),
            "--week",
            "2026-W32",
            "--out",
            str(tmp_path / "rep"),
            "--format",
            "md",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["job"] == "report" and out["status"] == "ok" and out["paths"] == [str(tmp_path / "rep" / "2026-W32.md")]
    st = json.loads(r.invoke(cli, ["status", "--config", str(path), "--json"]).stdout)
    # the report's run is stamped with the real clock, the collect with the world's: compare as a set
    assert sorted(x["job"] for x in st["runs"]) == ["collect", "report"]
    runs = r.invoke(
        cli,
        [
            "sql",
            "--config",
            str(path),
            "--format",
            "csv",
            "--no-headers",
            "select job, status from runs order by job",  # clocks differ (see above)
        ],
    )
    assert runs.stdout.splitlines() == ["collect,ok", "report,ok"]


@pytest.mark.slow
def test_grammar_one_day_and_an_attach(tmp_path, collected):
    path = collected  # the collected warehouse itself: only read
    r = CliRunner()
    st = r.invoke(cli, ["status", "--config", str(path)])
    assert "data       1 day, 2026-08-10 .. 2026-08-10" in st.stdout, st.stdout
    res = r.invoke(cli, ["sql", "--config", str(path), "attach 'x.db' as x"])
    assert res.exit_code == 1 and "an ATTACH statement was refused" in res.output, res.output
    res = r.invoke(cli, ["sql", "--config", str(path), "delete from runs"])
    assert "a DELETE statement was refused" in res.output
