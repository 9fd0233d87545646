"""The commands that keep running or look after the warehouse: daemon (the scheduled jobs), demo (the
whole story offline, against the bundled emulator) and compact (what the daemon does after each job)."""

from __future__ import annotations

import click

from tracker.cli.common import emit_json, fail, internal_error, json_option, with_settings


@click.command()
@with_settings
def daemon(settings):
    """Run the scheduled jobs (config.yaml `schedule:`) until stopped with SIGTERM or Ctrl-C.

    One daemon per warehouse (a second one exits 1 naming the PID that runs). At start, and after the
    machine slept, a job whose last ok run is older than its latest scheduled time runs once, now.
    On SIGTERM/SIGINT the running job finishes, then the daemon exits 0. See docs/daemon.md.

    \b
    Example:
      HF_TOKEN=hf_... tracker daemon --config /srv/hub-tracker/config.yaml
    """
    from tracker import daemon as daemon_mod

    try:
        daemon_mod.run(settings)
    except daemon_mod.AlreadyRunning as exc:
        fail(str(exc), 1)


@click.command()
@click.option(
    "--dir",
    "folder",
    default="demo",
    show_default=True,
    help="The demo's own folder: config.yaml, warehouse/, reports/, demo.log (replaced on a rerun).",
)
@click.option(
    "--weeks",
    default=8,
    show_default=True,
    type=click.IntRange(2, 8),
    help="Simulated weeks to replay, ending with the crossover week 2026-W34.",
)
@click.option(
    "--faults",
    default=None,
    metavar="SPEC",
    help="Inject emulator faults (docs/hubsim.md), to see how the tracker copes.",
)
@json_option
def demo(folder, weeks, faults, as_json):
    """Show the whole story offline: eight simulated weeks collected, the report of the week Qwen
    overtook Llama.

    Starts the bundled Hub emulator on a free port, replays the daemon's schedule (a collect at 06:00
    and a tree at 06:30 UTC every day) for eight simulated weeks with the emulator's and the tracker's
    clocks moved together, writes the weekly report of the crossover week into <dir>/reports/, prints
    the headline, the report's path and three queries to try, and stops the emulator (also on error
    and Ctrl-C). Under two minutes on two cores.

    \b
    Example:
      tracker demo
      tracker sql --config demo/config.yaml "select * from crossovers where overtaken = 'llama'"
    """
    from tracker import demo as demo_mod
    from tracker import log

    log.configure()
    if faults:
        from tracker.hubsim.faults import FaultPlan

        try:
            FaultPlan.parse(faults)
        except ValueError as exc:
            fail(f"--faults: {exc}", 2)
    say = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    try:
        result = demo_mod.run(folder, weeks=weeks, faults=faults, say=say)
    except demo_mod.DemoError as exc:
        fail(f"{exc}; the emulator was stopped", 1)
    except KeyboardInterrupt:
        fail("interrupted; the emulator was stopped", 130)
    except Exception as exc:  # noqa: BLE001 - anything else is reported as an internal error
        internal_error(exc)
    if as_json:
        emit_json(
            {
                "headline": result.headline,
                "week": result.week,
                "reports": [str(p) for p in result.reports],
                "config": str(result.config),
                "runs": result.runs,
                "seconds": round(result.seconds, 1),
                "queries": result.queries,
            }
        )
        return
    html = next((p for p in result.reports if p.suffix == ".html"), result.reports[0])
    click.echo("")
    click.echo(f"Headline of {result.week}: {result.headline}.")
    click.echo(f"Report: {html}  (and {html.with_suffix('.md')})")
    click.echo(f"{result.runs} runs in {result.seconds:.0f} s; everything is in {result.folder}/. Try:")
    for q in result.queries:
        click.echo(f"  {q}")


@click.command()
@click.option(
    "--grace-s",
    type=click.FloatRange(min=0),
    default=None,
    help="Delete a replaced file once it has been hidden this long (default 3600 s; readers that "
    "listed it a moment before still read it).",
)
@with_settings
def compact(settings, grace_s):
    """Merge the warehouse's small files: each complete day's, then each closed month's, per dataset.

    Safe at any time, beside a running job or reader, and when killed: every row stays visible exactly
    once. The daemon runs it after its jobs; this runs it by hand.

    \b
    Example:
      tracker compact
    """
    from tracker.jobs.common import utcnow
    from tracker.warehouse import Warehouse

    res = Warehouse(settings.warehouse).compact(today=utcnow().date(), grace_s=grace_s)
    if res.busy:
        click.echo("another compaction is running; nothing done")
        return
    merged = sum(res.merged.values())
    click.echo(
        f"merged {merged} files into {res.written}; deleted {res.deleted} replaced files"
        + (" (deletions deferred: a tracker read was running)" if res.deferred else "")
    )
    click.echo("files per dataset: " + ", ".join(f"{d} {n}" for d, n in res.files_after.items()))
