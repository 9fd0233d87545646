"""A user's DuckDB session reading hub.duckdb while the tracker writes: run as a separate process by
tests/test_daemon.py and bench/soak.py.

    python tests/duckdb_reader.py <hub.duckdb> <stop file> [<ready file>]

Queries runs x snapshots and family_daily every 10 ms, on a connection held open all along and on a
fresh one each time, until the stop file exists; touches the ready file once it has queried once.
Prints one JSON line: {"ok": queries that worked, "fail": that failed, "errors": the first five,
"runs_seen": how many different run counts it saw}.
"""

import json
import os
import sys
import time

import duckdb


def main(db: str, stop: str, ready: str | None = None) -> None:
    held = duckdb.connect(db, read_only=True)  # a user's session left open all along
    ok = fail = 0
    errors: list[str] = []
    seen: set[int] = set()
    while not os.path.exists(stop):
        for con in (held, None):
            try:
                c = con or duckdb.connect(db, read_only=True)
                got = c.sql(
                    "select r.run_id, count(s.model_id) from runs r left join snapshots s using (run_id) "
                    "group by r.run_id"
                ).fetchall()
                c.sql("select * from family_daily").fetchall()
                seen.add(len(got))
                if con is None:
                    c.close()
                ok += 1
            except Exception as exc:  # noqa: BLE001 - every failure is what the caller counts
                fail += 1
                errors.append(repr(exc)[:200])
        if ready and not os.path.exists(ready):
            open(ready, "w").close()  # it has queried once: the writer may start
        time.sleep(0.01)
    print(json.dumps({"ok": ok, "fail": fail, "errors": errors[:5], "runs_seen": len(seen)}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
