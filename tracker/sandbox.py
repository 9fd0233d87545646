"""The sandbox `tracker sql` runs user SQL in: it may read the warehouse folder and nothing else, and
it cannot write a file, install or load an extension, attach a database or change a setting.

Two layers, because neither is enough alone (both measured on DuckDB 2.0.1):

1. DuckDB's own settings on the connection, then locked: `allowed_directories` = the warehouse
   folder, `enable_external_access = false` (no other file, no URL, no extension install/load, no
   ATTACH, no secrets), no autoloading of extensions, no spilling to a temp folder, and
   `lock_configuration = true`, so that no statement (`SET`, `RESET`, `PRAGMA`) can undo them. These
   hold whatever the statement's form: `EXPLAIN ANALYZE COPY ... TO '/tmp/x'` is refused by DuckDB.
2. The settings cannot tell reading from writing inside the allowed folder (`COPY ... TO
   '<warehouse>/runs/x.parquet'` would forge a run), so every parsed statement must be a query:
   DuckDB's parser (not a keyword match on the text) must classify it as SELECT (`select`, `with`,
   `from`, `describe`, `summarize`, `show`, `values`). `EXPLAIN [ANALYZE]` is allowed only in front
   of such a query, checked by parsing what follows it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

ALLOWED_TYPES = frozenset({"SELECT"})
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?:ANALYZE\s+)?(?P<inner>.+)$", re.IGNORECASE | re.DOTALL)


class Refused(Exception):
    """The SQL text is not a read-only query; the message says what was refused and what to do."""


def _kind(statement) -> str:
    return getattr(statement.type, "name", str(statement.type)).upper().removeprefix("STATEMENTTYPE.")


def check(text: str) -> list:
    """The parsed statements of `text` if every one is a read-only query; else raises Refused."""
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise Refused(f"the query does not parse: {str(exc).splitlines()[0]}") from None
    if not statements:
        raise Refused("no SQL statement given")
    for st in statements:
        kind = _kind(st)
        if kind == "EXPLAIN":
            m = _EXPLAIN.match(st.query)
            try:
                inner = duckdb.extract_statements(m.group("inner")) if m else []
            except duckdb.Error:
                inner = []
            if len(inner) != 1 or _kind(inner[0]) not in ALLOWED_TYPES:
                raise Refused("`tracker sql` is read-only: EXPLAIN is allowed only as `EXPLAIN [ANALYZE] SELECT ...`.")
            continue
        if kind not in ALLOWED_TYPES:
            raise Refused(
                f"`tracker sql` is read-only: {'an' if kind[:1] in 'AEIOU' else 'a'} {kind} statement was refused. "
                "Query the views (see the README's 'The warehouse' section); "
                "to change data, use the tracker's commands."
            )
    return statements


def lock(con: duckdb.DuckDBPyConnection, warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Confine an open connection to reading `warehouse`, then lock its configuration (irreversible)."""
    root = Path(warehouse).absolute()
    dirs = sorted({f"{root}/", f"{os.path.realpath(root)}/"})
    listed = ", ".join("'" + d.replace("'", "''") + "'" for d in dirs)
    for setting in (
        f"SET allowed_directories = [{listed}]",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET temp_directory = ''",  # no spilling: nothing is ever written
        "SET enable_external_access = false",  # must come after allowed_directories
        "SET lock_configuration = true",
    ):
        con.execute(setting)
    return con


def run(con: duckdb.DuckDBPyConnection, statements: list, params: dict | None = None):
    """Execute checked statements on a locked connection; the last one's result as a DataFrame."""
    for st in statements[:-1]:
        con.execute(st, params) if params else con.execute(st)
    last = statements[-1]
    return (con.execute(last, params) if params else con.execute(last)).df()
