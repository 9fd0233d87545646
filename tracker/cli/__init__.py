"""The `tracker` command line: the group and its commands. Each command parses its options, calls one
function of the layer below (jobs, daemon, warehouse) and formats the output.

  common.py       the shared options, the checks made before any work, errors and exit codes, printing
  collecting.py   collect, tree, census, backfill, import: data into the warehouse
  querying.py     sql, status: the warehouse read and printed
  publishing.py   report, export: files written out of the warehouse
  running.py      daemon, demo, compact

Heavy libraries (duckdb, pandas, huggingface_hub) are imported inside the commands that need them,
so that `tracker --help` answers at once.
"""

from __future__ import annotations

import click

from tracker import __version__
from tracker.cli.collecting import backfill, census, collect, import_, tree
from tracker.cli.common import CONTEXT
from tracker.cli.publishing import export, report
from tracker.cli.querying import sql, status
from tracker.cli.running import compact, daemon, demo
from tracker.hubsim.command import hubsim  # imports only click at module level


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="tracker")
def cli() -> None:
    """Hub Tracker: download, like and derivative counts of open model families on the Hugging Face Hub,
    snapshotted into a DuckDB warehouse you can query with plain SQL.

    \b
    Start here:
      tracker collect                 # one snapshot of every family in config.yaml
      tracker sql "select * from family_daily order by day desc"
      tracker status                  # last runs, warehouse size
    """


for command in (collect, tree, census, report, import_, backfill, export, compact, sql, status, demo, daemon):
    cli.add_command(command)
cli.add_command(hubsim, "hubsim")


def main() -> None:
    cli(prog_name="tracker")
