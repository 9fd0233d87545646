"""``tracker hubsim``: serve a simulated Hub in the foreground (click only at import time)."""

from __future__ import annotations

import click

EPILOG = """\b
Example:
  tracker hubsim --models 50000 --date 2026-08-16 --faults "429=ratelimit,t=1,times=2"
  export HF_ENDPOINT=http://127.0.0.1:8765   # in another shell, then use the tracker or HfApi

\b
--speed: simulated seconds per real second. 0 (default) freezes the clock at --date;
  86400 makes one simulated day pass per real second.
--faults: rules separated by ';', each KIND[=VALUE]{,KEY=VALUE}; kinds 429 (ratelimit|retry-after|bare),
  status=CODE, hang, truncate, html, delay=SECONDS; keys route, author, page, model, path, nth, times,
  prob, t. See docs/hubsim.md.
"""


def parse_official(spec: str) -> dict[str, int]:
    """'meta-llama=12,Qwen=24' -> {'meta-llama': 12, 'Qwen': 24}; a mistake is a usage error (exit 2)."""
    out: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        org, sep, n = item.partition("=")
        if not sep or not org.strip() or not n.strip().isdigit():
            raise click.BadParameter(f"'{item}' is not ORG=N (e.g. 'meta-llama=12,Qwen=24')", param_hint="--official")
        out[org.strip()] = int(n)
    if not out:
        raise click.BadParameter("give at least one ORG=N", param_hint="--official")
    return out


@click.command("hubsim", epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0 = any free port)."
)
@click.option("--seed", default=0, show_default=True, type=int, help="World seed (same seed = same world).")
@click.option(
    "--models", default=20_000, show_default=True, type=click.IntRange(0), help="Models in the world's timeline."
)
@click.option(
    "--official",
    default=None,
    metavar="ORG=N,...",
    help="Official models per org, e.g. 'meta-llama=12,Qwen=24' (default: the shipped catalogue's counts).",
)
@click.option(
    "--date",
    "date_",
    default="2026-08-01",
    show_default=True,
    help="Simulated date/time the clock starts at (YYYY-MM-DD or ISO, UTC). Only moves the clock: "
    "a seed gives the same world whatever the date.",
)
@click.option("--faults", default=None, help="Fault spec, e.g. 'status=503,route=listing,author=Qwen,page=1,times=2'.")
@click.option(
    "--speed",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Simulated seconds per real second (0 = frozen clock).",
)
@click.option(
    "--page-size", default=1000, show_default=True, type=click.IntRange(1), help="Default and maximum page size."
)
@click.option(
    "--quota-anonymous", default=500, show_default=True, type=click.IntRange(1), help="Requests per window, anonymous."
)
@click.option(
    "--quota-token", default=1000, show_default=True, type=click.IntRange(1), help="Requests per window, per token."
)
@click.option(
    "--window",
    "window_s",
    default=300.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Rate-limit window (s).",
)
@click.option("--no-base-models-on-listing", is_flag=True, help="Reject expand=baseModels on /api/models (400).")
@click.option("--anonymous-401", is_flag=True, help="Missing repo + no token -> 401 instead of 404.")
def hubsim(seed, models, official, date_, faults, no_base_models_on_listing, **server):
    """Serve a simulated Hugging Face Hub (the project's emulator) in the foreground.

    Builds a seeded world of models (official releases, community derivatives, unrelated models),
    serves GET /api/models and /api/models/{id} like huggingface.co, and prints the HF_ENDPOINT to
    export. Stops cleanly on Ctrl-C or SIGTERM.
    """
    # the options named after HubSim's parameters (host, port, speed, page size, quotas, window,
    # anonymous 401) go to it as they are
    import signal
    import time

    from .faults import FaultPlan
    from .server import HubSim
    from .timefmt import to_epoch
    from .world import World

    try:
        plan = FaultPlan.parse(faults, seed=seed)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from exc
    try:
        to_epoch(date_)
    except (TypeError, ValueError):
        raise click.BadParameter(
            f"'{date_}' is not a date such as 2026-08-16 or 2026-08-16T06:00:00Z", param_hint="--date"
        ) from None
    counts = parse_official(official) if official else None
    t0 = time.monotonic()
    world = World(seed=seed, models=models, official=counts, now=date_)
    hub = HubSim(world, base_models_on_listing=not no_base_models_on_listing, faults=plan, **server)
    try:
        hub.start()
    except OSError as exc:
        raise click.ClickException(f"cannot bind {server['host']}:{server['port']}: {exc}") from exc
    # SIGTERM or Ctrl-C unwinds the wait below. The handler takes no lock: one that set a threading.Event
    # hung for good when a second signal came while the first one's Event.set held the Event's lock.
    # Signals after the first are ignored while the emulator stops.
    stopping: list[int] = []

    def _on_signal(signum, frame):
        if not stopping:
            stopping.append(signum)
            raise KeyboardInterrupt

    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        for signum in previous:
            signal.signal(signum, _on_signal)  # before the endpoint is announced: a caller may signal at once
        click.echo(f"hubsim: {world.N} models (seed {seed}) built in {time.monotonic() - t0:.1f}s")
        click.echo(
            f"hubsim: simulated now {world.now.isoformat()}"
            + (f", clock running at {hub.speed:g}x" if hub.speed else " (frozen clock)")
        )
        if len(plan):
            click.echo(f"hubsim: faults {plan}")
        click.echo(f"export HF_ENDPOINT={hub.endpoint}")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        click.echo("hubsim: stopped")
