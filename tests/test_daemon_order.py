"""docs/daemon.md: jobs owed at the same moment run one at a time in the order collect, tree, report
(APScheduler alone would break the tie by job id: collect, report, tree)."""

from __future__ import annotations

import datetime as dt

import tests.test_daemon as td
from tracker import jobs


def test_jobs_owed_together_run_collect_tree_report(tmp_path, monkeypatch):
    order: list[str] = []
    for name in ("collect", "tree", "report"):
        monkeypatch.setitem(
            jobs.JOBS,
            name,
            lambda settings, now=None, name=name: (
                order.append(name) or {"run_id": f"{name}-{len(order)}", "status": "ok", "models": 0}
            ),
        )
    cfg = td.write(tmp_path, "http://127.0.0.1:9", {"collect": "0 6 * * *", "tree": "0 6 * * *", "report": "0 6 * * 1"})
    with td.Threaded(cfg, start=dt.datetime(2026, 8, 10, 6, 0, 30, tzinfo=dt.UTC)) as t:  # a Monday
        assert td.wait_until(lambda: len(order) >= 3, 10)
        assert t.t.is_alive()
    assert order[:3] == ["collect", "tree", "report"]
