"""The commands that put data into the warehouse: collect, tree, census, backfill (from the Hub) and import
(from archived listings). Each checks its options, runs its job and prints the run's one-line summary."""

from __future__ import annotations

import click

from tracker.cli.common import (
    counted,
    emit_json,
    fail,
    family_option,
    finish,
    hub_families,
    json_option,
    progress_option,
    with_settings,
)


@click.command()
@family_option("Collect only this family (repeatable). Default: every family in the config.")
@progress_option
@json_option
@with_settings
def collect(settings, families, progress, as_json):
    """Take one snapshot of every tracked family into the warehouse.

    Lists each family's models on the Hub (downloads, all-time downloads, likes, trending score, ...)
    and publishes them as one run: a family is stored whole or not at all.
    Exit code 0 when every family succeeded, 1 when any failed (the run is then `partial` or `failed`).

    \b
    Example:
      HF_ENDPOINT=http://127.0.0.1:8765 tracker collect --family qwen --family llama
    """
    from tracker import jobs

    run = jobs.collect(settings, families=hub_families(settings, families), show_progress=progress)
    finish(
        run,
        f"{run['status']}: {counted(run['families_ok'], 'family', 'families')} stored, "
        f"{run['families_failed']} failed, {counted(run['models'], 'model')}, "
        f"{counted(run['requests'], 'request')} ({run['retries']} retried) -> {settings.warehouse}",
        as_json,
    )


@click.command()
@family_option("Only this family (repeatable). Default: every family in the config.")
@progress_option
@json_option
@with_settings
def tree(settings, families, progress, as_json):
    """Count each family's derivatives: fine-tunes, adapters, quantizations and merges.

    Asks the Hub for childrenModelCount of every official model in the family's latest snapshot (one
    request per model), paced by the Hub's RateLimit headers so that it runs at the fastest rate the
    quota allows without a 429. Interrupted, it keeps what it fetched: run it again the same day and it
    fetches only the models still missing. Families with `ecosystem: true` also list the children of
    their top models. Run `tracker collect` first.

    \b
    Example:
      tracker tree --family qwen
      tracker sql "select day, family, derivatives, finetunes, quantizations from family_daily"
    """
    from tracker import jobs

    run = jobs.tree(settings, families=hub_families(settings, families), show_progress=progress)
    finish(
        run,
        f"{run['status']}: {counted(run['models'], 'model')} fetched, {counted(run['requests'], 'request')}, "
        f"{run['rate_limited']} answered 429, {run['quota_wait_s']:.1f} s waiting for quota; "
        f"{counted(run['families_ok'], 'family', 'families')} complete, {run['families_failed']} incomplete",
        as_json,
    )


@click.command()
@progress_option
@with_settings
def census(settings, progress):
    """List the whole Hub once: every model, its downloads, likes and model tree.

    One paginated listing of every model (no author filter): about ⌈N/1000⌉ requests for N models
    (2,000 for 2 million: about 10 minutes within a free token's quota, 20 anonymous), paced by the
    Hub's RateLimit headers. Every model is attributed to the families whose models are among its
    roots (through any number of fine-tunes, merges, quantizations). Stopped part way, it keeps what it
    listed: run it again the same day and it resumes; nothing is visible until it is complete.

    \b
    Example:
      tracker census
      tracker sql "select family, descendants, direct, quantizations from family_ecosystem order by day desc"
    """
    from tracker import jobs
    from tracker.census_store import CensusBusy

    try:
        run = jobs.census(settings, show_progress=progress)
    except CensusBusy as exc:
        fail(str(exc))
    if run["status"] == "ok":
        summary = (
            f"ok: {run['models']} models, {run['edges']} edges, {run['dangling_parents']} dangling parents, "
            f"{run['cycles']} cycles, {run['self_references']} self-references; {run['requests']} requests, "
            f"{run['quota_wait_s']:.1f} s waiting for quota"
        )
    else:
        summary = (
            f"{run['status']}: listing incomplete after {run['pages']} pages ({run['requests']} requests); "
            "run `tracker census` again today to resume"
        )
    finish(run, summary)


@click.command()
@family_option("Only this family (repeatable).")
@click.option(
    "--since",
    default="2023-01-01",
    show_default=True,
    metavar="YYYY-MM-DD",
    help="The first day of the reconstructed series.",
)
@progress_option
@json_option
@with_settings
def backfill(settings, families, since, progress, as_json):
    """Reconstruct past model and derivative counts from creation dates.

    Lists the children of every official model through the Hub's model-tree filter and counts, for
    each day since --since, the official models and the derivatives per relation that existed.
    Derivatives deleted since are missing: backfilled counts are lower bounds, marked
    source = 'backfill' in family_daily, and never replace an observed snapshot. Paced and resumable
    like `tracker tree`. Run `tracker collect` first.

    \b
    Example:
      tracker backfill --since 2024-01-01
      tracker sql "select * from crossovers where metric = 'derivatives'"
    """
    import datetime as dt

    from tracker import jobs

    try:
        start = dt.date.fromisoformat(since)
    except ValueError:
        fail(f"--since must be a date such as 2023-01-01 (got '{since}')", 2)
    names = hub_families(settings, families)
    if start > jobs.utcnow().date():
        fail(f"--since {since} is in the future", 2)
    run = jobs.backfill(settings, families=names, since=start, show_progress=progress)
    click.echo("note: derivatives deleted since are not in a backfill; its counts are lower bounds.", err=as_json)
    finish(
        run,
        f"{run['status']}: {counted(run['models'], 'official model')} listed, "
        f"{counted(run['requests'], 'request')}, "
        f"{counted(run['families_ok'], 'family', 'families')} reconstructed since {since}",
        as_json,
    )


@click.command(name="import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--taken-at",
    metavar="TIMESTAMP",
    help="When the listing was taken (ISO, UTC), for files that do not say (no fetched_at/date).",
)
@json_option
@with_settings
def import_(settings, paths, taken_at, as_json):
    """Load archived Hub listings as snapshots of their own date.

    Reads JSON arrays of Hub model records, JSON lines, the {"date", "fetched_at", "models": [...]}
    files that git-scraping repositories keep, and Parquet files with Hub field names. Families are
    assigned by config.yaml's rules; importing the same file twice changes nothing. A whole-Hub dump
    (the cfahlgren1/hub-stats models.parquet layout: tags and baseModels/safetensors columns) is
    imported as the census of its date (read in batches), with its model tree and the census views.

    \b
    Example:
      tracker import archive/2026-08-*.json
    """
    import datetime as dt

    from tracker import archive, jobs

    when = None
    if taken_at:
        try:
            when = dt.datetime.fromisoformat(taken_at.replace("Z", "+00:00"))
        except ValueError:
            fail(f"--taken-at must be an ISO time such as 2026-08-07T06:00:00Z (got '{taken_at}')", 2)
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    from tracker.jobs.census import DumpError, is_dump

    dumps = [p for p in paths if is_dump(p)]  # whole-Hub dumps (hub-stats models.parquet): censuses
    results = []
    try:
        for p in dumps:
            results.append(jobs.import_dump(settings, p, taken_at=when))
        rest = [p for p in paths if p not in dumps]
        if rest:
            results += jobs.import_files(settings, rest, taken_at=when)
    except (archive.ArchiveError, DumpError) as exc:
        fail(str(exc))
    if as_json:
        emit_json(results)
        return
    for r in results:
        if r.get("edges") is not None:
            click.echo(
                f"{r['status']:<8} {r['path']}: census of {r['run_id'][:8]}, {r['models']} models, "
                f"{r['edges']} edges [run {r['run_id']}]"
            )
            continue
        if r["status"] == "skipped":
            click.echo(f"skipped  {r['path']}: already imported [run {r['run_id']}]")
        else:
            click.echo(
                f"{r['status']:<8} {r['path']}: {counted(r['models'], 'model')} in "
                f"{counted(r['families_ok'], 'family', 'families')} [run {r['run_id']}]"
            )
