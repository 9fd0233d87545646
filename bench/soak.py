"""Soak: the daemon on an every-minute schedule for 30 simulated minutes against the emulator, with faults.

    python bench/soak.py                      # 30 simulated minutes at 15x: about 2 minutes of real time
    python bench/soak.py --minutes 60 --speed 20 --keep /tmp/soak

The daemon is the real one (tracker.daemon.Daemon, real APScheduler, real warehouse files, the real
emulator over HTTP) on a SimClock that runs `speed` times faster than real time; the emulator's world
follows the same clock. Injected along the way:
  - transient faults all the time: 503s on listing pages, 429s with RateLimit, slow pages;
  - a Hub outage (every listing answers 500) for a few simulated minutes: runs fail, the daemon retries;
  - a suspend: the clock jumps forward several minutes at once, as after a laptop lid closes.
Meanwhile a separate process queries the warehouse read-only in a loop (one session held open, one
opened per query).

What it checks, and prints:
  - every scheduled minute is collected: the first `ok` collect at or after it exists (none lost);
    a minute without its own run is explained (an earlier run still going, the outage, the suspend);
  - the last scheduled minute is not owed when the soak ends;
  - nothing lost: every job the daemon ran has its `runs` row (every run commits), every run's
    snapshot rows match its `models`, no data file lacks its run, no temporary file is left;
  - never two collects at once; the reader never failed.
Exit code 0 when every check passes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker import (  # noqa: E402
    config,
    cron,
    daemon,
    demo,
    log,
)
from tracker.hubsim import Fault, HubSim, World  # noqa: E402
from tracker.warehouse import Warehouse  # noqa: E402

UTC = dt.UTC
START = dt.datetime(2026, 8, 10, 5, 59, 30, tzinfo=UTC)
# the demo's Qwen and Llama, and a family found by search (a listing per rule, as Gemma in the demo)
FAMILIES = [
    *demo.families("qwen", "llama"),
    {
        "name": "smollm",
        "label": "HF SmolLM",
        "authors": ["HuggingFaceTB"],
        "region": "us",
        "search": "smollm",
        "include": "(?i)smollm",
    },
]
TRANSIENT = ["status=503,route=listing,prob=0.06", "429=ratelimit,t=1,prob=0.03", "delay=0.2,route=listing,prob=0.2"]

READER = str(Path(__file__).resolve().parents[1] / "tests" / "duckdb_reader.py")  # the daemon test's reader


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=30, help="simulated minutes (default 30)")
    ap.add_argument("--speed", type=float, default=15, help="simulated seconds per real second (default 15)")
    ap.add_argument("--models", type=int, default=3000, help="models in the emulated Hub")
    ap.add_argument("--outage", default="12-15", help="simulated minutes A-B during which the Hub answers 500")
    ap.add_argument("--suspend-at", type=float, default=20, help="simulated minute of the suspend")
    ap.add_argument("--suspend-min", type=float, default=4, help="how long the machine sleeps (minutes)")
    ap.add_argument("--keep", type=Path, help="keep the warehouse in this folder (default: a temp folder)")
    ap.add_argument("--verbose", action="store_true", help="show the daemon's log lines")
    args = ap.parse_args()

    log.configure(json=False, level="INFO" if args.verbose else "CRITICAL")
    if not args.verbose:  # huggingface_hub sets its own logger's level; its retry warnings are expected here
        logging.getLogger("huggingface_hub").setLevel(logging.CRITICAL)
    work = args.keep or Path(tempfile.mkdtemp(prefix="soak-"))
    work.mkdir(parents=True, exist_ok=True)
    out_a, out_b = (float(x) for x in args.outage.split("-"))
    end = START + dt.timedelta(minutes=args.minutes)
    world = World(seed=7, models=args.models, now=START)
    t_real = time.monotonic()

    with HubSim(world) as hub:
        for rule in TRANSIENT:
            hub.faults.add(rule)
        doc = {
            "warehouse": str(work / "warehouse"),
            "hub": {"endpoint": hub.endpoint, "page_size": 100, "timeout_s": 2, "budget_s": 3},
            "families": FAMILIES,
            "schedule": {"collect": "* * * * *"},
        }
        cfg = work / "config.yaml"
        cfg.write_text(yaml.safe_dump(doc, sort_keys=False))
        settings = config.load(cfg)
        wh = Warehouse(settings.warehouse)
        wh.ensure()
        stop_file = work / "reader.stop"
        stop_file.unlink(missing_ok=True)
        reader = subprocess.Popen(
            [sys.executable, READER, str(wh.db_path), str(stop_file)], stdout=subprocess.PIPE, text=True
        )

        clock = daemon.SimClock(START, speed=args.speed)
        d = daemon.Daemon(settings, clock=clock)
        outage_rule: Fault | None = None
        suspended = None  # (from, to) in simulated time
        with clock.install():
            th = threading.Thread(target=d.run, kwargs={"install_signals": False}, daemon=True)
            th.start()
            d.started.wait(10)
            while (now := clock()) < end:
                world.set_time(now)
                minute = (now - START).total_seconds() / 60
                if outage_rule is None and out_a <= minute < out_b:
                    outage_rule = hub.faults.add("status=500,route=listing")
                    print(f"  {now:%H:%M:%S} outage: every listing answers 500 until minute {out_b:g}")
                elif outage_rule is not None and minute >= out_b and outage_rule.times is None:
                    outage_rule.times = outage_rule.fired  # spent: the rule matches nothing any more
                    print(f"  {now:%H:%M:%S} outage over")
                if suspended is None and minute >= args.suspend_at:
                    clock.jump(args.suspend_min * 60)
                    suspended = (now, clock())
                    world.set_time(suspended[1])
                    print(f"  {now:%H:%M:%S} suspend: the clock jumps to {suspended[1]:%H:%M:%S}")
                time.sleep(0.05)
            # drain: the daemon gets up to ten more simulated minutes to collect what the last minute owes
            last_fire, drain_from = cron.latest_fire("* * * * *", end), time.monotonic()
            while clock() < end + dt.timedelta(minutes=10) and not any(
                h["status"] == "ok" and h["started"] >= last_fire for h in list(d.history)
            ):
                world.set_time(clock())
                time.sleep(0.05)
            print(f"  {clock():%H:%M:%S} stop (drained {time.monotonic() - drain_from:.1f} s after the end)")
            d.stop("soak over")
            th.join(120)
        stop_file.touch()
        rd = json.loads(reader.communicate(timeout=60)[0].splitlines()[-1])
    real_s = time.monotonic() - t_real
    return report(
        d,
        wh,
        end,
        suspended,
        (START + dt.timedelta(minutes=out_a), START + dt.timedelta(minutes=out_b)),
        rd,
        real_s,
        args,
    )


def report(d, wh, end, suspended, outage, rd, real_s, args) -> int:
    runs = wh.query("select * from runs order by started_at")
    runs["started_at"] = [t.to_pydatetime() for t in runs["started_at"]]
    runs["finished_at"] = [t.to_pydatetime() for t in runs["finished_at"]]
    hist = [h for h in d.history if h["job"] == "collect"]
    ok = runs[runs["status"] == "ok"]
    failures: list[str] = []

    def check(cond: bool, what: str) -> None:
        print(f"  [{'ok' if cond else 'FAIL'}] {what}")
        if not cond:
            failures.append(what)

    # the scheduled minutes and who collected each
    periods, p = [], START.replace(second=0) + dt.timedelta(minutes=1)
    while p <= end:
        periods.append(p)
        p += dt.timedelta(minutes=1)
    own = coalesced = 0
    lags: list[float] = []
    why = {
        "an earlier run was still going": 0,
        "Hub outage or a failed run": 0,
        "machine suspended": 0,
        "unexplained": 0,
    }
    lost = []
    # in simulated time (a run's finished_at adds real seconds to its simulated start)
    spans = [(h["started"], h["finished"], h["status"]) for h in hist]
    for p in periods:
        after = ok[ok["started_at"] >= p]
        if after.empty:
            lost.append(p)
            continue
        first = after["started_at"].iloc[0]
        lags.append((first - p).total_seconds())
        if first < p + dt.timedelta(minutes=1):
            own += 1
            continue
        coalesced += 1
        if suspended and suspended[0] <= p + dt.timedelta(minutes=1) and p <= suspended[1]:
            why["machine suspended"] += 1
        elif outage[0] - dt.timedelta(minutes=1) <= p <= outage[1] + dt.timedelta(minutes=1) or any(
            st != "ok" and s <= p + dt.timedelta(minutes=1) and f >= p for s, f, st in spans
        ):
            why["Hub outage or a failed run"] += 1
        elif any(s <= p + dt.timedelta(seconds=5) and f >= p - dt.timedelta(seconds=5) for s, f, _ in spans):
            why["an earlier run was still going"] += 1
        else:
            why["unexplained"] += 1

    slept = f"suspend {suspended[0]:%H:%M:%S} -> {suspended[1]:%H:%M:%S}" if suspended else "no suspend"
    print(
        f"\nsoak: {args.minutes} simulated minutes at {args.speed:g}x in {real_s:.0f} s real; "
        f"faults {'; '.join(TRANSIENT)}; outage {outage[0]:%H:%M:%S}-{outage[1]:%H:%M:%S}; {slept}"
    )
    statuses = runs["status"].value_counts().to_dict()
    kinds = {h["trigger"].split(" ")[0] for h in hist}
    triggers = {t: sum(h["trigger"].startswith(t) for h in hist) for t in sorted(kinds)}
    print(
        f"runs: {len(runs)} collects ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}); "
        f"triggers {triggers}; "
        f"fires skipped while a run was going: {d.skipped_busy['collect']}"
    )
    print(
        f"scheduled minutes: {len(periods)}; collected by a run in their own minute: {own}; coalesced into a "
        f"later run: {coalesced} ({', '.join(f'{k}: {v}' for k, v in why.items() if v)})"
    )
    if lags:
        print(
            f"lag from a scheduled minute to the run that collected it: median {statistics.median(lags):.0f} s, "
            f"max {max(lags):.0f} s (simulated)"
        )
    print("checks:")
    check(
        not lost, f"every scheduled minute collected by an ok run at or after it (lost: {[f'{x:%H:%M}' for x in lost]})"
    )
    check(why["unexplained"] == 0, "every minute without its own run is explained (overrun, outage, suspend)")
    last_fire = cron.latest_fire("* * * * *", end)
    check(
        not ok.empty and ok["started_at"].max() >= last_fire,
        f"nothing owed when the soak stopped (last ok {ok['started_at'].max():%H:%M:%S}, last fire {last_fire:%H:%M})",
    )
    ran = {h["run_id"] for h in hist if h.get("run_id")}
    check(
        ran == set(runs["run_id"]) and len(hist) == len(runs) and all(h.get("run_id") for h in hist),
        f"every run the daemon made committed its runs row ({len(hist)} jobs, {len(runs)} rows)",
    )
    fam_glob = str(wh.root / "family_snapshots" / "*" / "*.parquet")
    per = wh.query(
        "select r.run_id, r.models, r.families_ok, (select count(*) from snapshots s where s.run_id = r.run_id) n, "
        "(select count(*) from read_parquet($g) f where f.run_id = r.run_id) nf from runs r",
        {"g": fam_glob},
    )
    check(
        bool((per["models"] == per["n"]).all() and (per["families_ok"] == per["nf"]).all()),
        "each run's snapshot rows equal its models, and its family rows its families_ok",
    )
    data_ids = {
        p.stem
        for sub in ("snapshots", "family_snapshots")
        for p in (wh.root / sub).rglob("*.parquet")
        if p.parent.name != "_empty"
    }
    check(
        data_ids <= set(runs["run_id"]), f"no data file without its run ({len(data_ids - set(runs['run_id']))} orphans)"
    )
    check(not [p for p in wh.root.rglob("*") if p.name.endswith(".tmp")], "no temporary file left")
    ordered = sorted(spans)
    check(all(b[0] >= a[1] for a, b in itertools.pairwise(ordered)), "never two collects at once")
    check(
        rd["fail"] == 0 and rd["ok"] > 0,
        f"the reader process never failed ({rd['ok']} queries, {rd['fail']} failed"
        f"{', e.g. ' + rd['errors'][0] if rd['errors'] else ''})",
    )
    full = ok["models"].max() if not ok.empty else 0
    check(bool((ok["models"] == full).all()), f"every ok run holds the full listing ({full} models)")
    print(f"warehouse: {wh.root}")
    print("PASS" if not failures else f"FAIL: {len(failures)} check(s)")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
