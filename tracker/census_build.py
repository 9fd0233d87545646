"""Building a census day from its staging chunks (tracker/census_store.py): out of core in DuckDB
(memory-capped) and with tracker.lineage (numpy): keys, models, edges, attribution and the small
summaries the views read. The run record, written last by the job, makes the day visible.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from typing import Any

import numpy as np
import pyarrow as pa

from tracker import lineage
from tracker.census_store import Staging
from tracker.warehouse import Warehouse
from tracker.warehouse.layout import sql_str

MEMORY_LIMIT = "600MB"  # DuckDB's share of the census's memory (it spills to disk beyond it)
# writer options per dataset: sorted keys delta-encode to almost nothing
_KEYED = {
    "column_encoding": {"model_key": "DELTA_BINARY_PACKED"},
    "use_dictionary": ["run_id", "relation", "family", "pipeline_tag", "library_name", "gated"],
}


def finish(wh: Warehouse, staging: list[Staging], families, run_id: str, day: dt.date, source: str) -> dict[str, Any]:
    """Build the census day from the staging chunks (written to data files; the caller writes the run
    record). Returns the counts of the census (models, edges, cycles, ...)."""
    files = [str(c) for s in staging for c in s.chunks()]
    tmpdir = wh.root / "census_staging" / f".duckdb-{secrets.token_hex(3)}"
    tmpdir.mkdir(parents=True, exist_ok=True)
    try:
        with wh.scratch(MEMORY_LIMIT, tmpdir) as con:
            return _build(con, wh, files, families, run_id, day, source)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _build(con, wh: Warehouse, files: list[str], families, run_id: str, day: dt.date, source: str) -> dict:
    import time

    import structlog

    t0 = time.monotonic()
    steps: dict[str, float] = {}

    def mark(name: str) -> None:
        steps[name] = round(time.monotonic() - t0 - sum(steps.values()), 2)

    con.execute("CREATE TEMP TABLE raw AS SELECT * FROM read_parquet($files)", {"files": files})
    dupes = con.execute("SELECT count(*) - count(DISTINCT model_id) FROM raw").fetchone()[0]
    if dupes:  # an id listed twice (a dump with duplicates): the last staged row wins
        con.execute("""CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM raw
                       QUALIFY row_number() OVER (PARTITION BY model_id ORDER BY chunk DESC) = 1""")
    mark("read")
    with wh.writer_lock():  # keys are handed out once, whoever else is writing
        ids_glob = sql_str(str(wh.root / "census_ids" / "*" / "*.parquet"))
        con.execute(f"""CREATE TEMP TABLE known AS
                        SELECT model_id, min(model_key) AS model_key, max(created_at) AS created_at
                        FROM read_parquet('{ids_glob}', union_by_name = true) GROUP BY model_id""")
        con.execute("""CREATE TEMP TABLE wanted AS
                       SELECT model_id, max(created_at) AS created_at FROM (
                           SELECT model_id, created_at FROM raw
                           UNION ALL SELECT unnest(parents), NULL::TIMESTAMPTZ FROM raw) GROUP BY model_id""")
        base = con.execute("SELECT coalesce(max(model_key), -1) FROM known").fetchone()[0]
        con.execute(f"""CREATE TEMP TABLE keys AS
            SELECT w.model_id, coalesce(k.model_key, {base} + row_number() OVER (
                       PARTITION BY k.model_key IS NULL ORDER BY w.model_id)) AS model_key,
                   w.created_at, k.model_key IS NULL AS new, k.created_at AS known_created
            FROM wanted w LEFT JOIN known k USING (model_id)""")
        new_ids = con.sql(f"""SELECT model_key, model_id, created_at, '{run_id}' AS run_id FROM keys
            WHERE new OR (known_created IS NULL AND created_at IS NOT NULL) ORDER BY model_key""").to_arrow_table()
        wh.write_arrow("census_ids", day, run_id, _table(new_ids), **_KEYED)
    mark("keys")
    con.execute("""CREATE TEMP TABLE m AS
        SELECT k.model_key, r.model_id, split_part(r.model_id, '/', 1) AS author, r.created_at, r.downloads_30d,
               r.downloads_all_time, r.likes, r.pipeline_tag, r.library_name, r.gated, r.parameters, r.relation,
               len(r.parents) > 0 AS derived
        FROM raw r JOIN keys k USING (model_id)""")
    con.execute("""CREATE TEMP TABLE e AS
        SELECT k.model_key, p.model_key AS parent_key, x.relation FROM  -- parents are distinct per model
            (SELECT model_id, relation, unnest(parents) AS parent FROM raw) x
        JOIN keys k USING (model_id) JOIN keys p ON p.model_id = x.parent""")
    con.execute("DROP TABLE raw")
    mark("models_edges")
    const = f"'{run_id}' AS run_id, DATE '{day.isoformat()}' AS day"
    wh.write_arrow(
        "census_models",
        day,
        run_id,
        _table(
            con.sql(
                f"SELECT {const}, * EXCLUDE (model_id, author, created_at, relation, derived) FROM m ORDER BY model_key"
            ).to_arrow_table()
        ),
        **_KEYED,
    )
    wh.write_arrow(
        "census_edges",
        day,
        run_id,
        _table(con.sql(f"SELECT {const}, * FROM e ORDER BY model_key, parent_key").to_arrow_table()),
        **_KEYED,
    )

    mark("write_models_edges")
    # ---- the tree and its attribution (numpy)
    n = int(con.execute("SELECT coalesce(max(model_key), -1) + 1 FROM keys").fetchone()[0])
    edges = con.execute("SELECT model_key, parent_key FROM e").fetchnumpy()
    tree = lineage.Tree.build(n, edges["model_key"], edges["parent_key"])
    authors = sorted({a for f in families for a in f.authors})
    cand = con.execute(
        "SELECT model_key, model_id FROM keys WHERE split_part(model_id, '/', 1) IN (SELECT unnest($a))", {"a": authors}
    ).fetchnumpy()
    own = {}
    sub = lineage.own_masks(list(cand["model_id"]), None, families)
    for fam in families:
        mask = np.zeros(n, dtype=bool)
        mask[cand["model_key"][sub[fam.name]]] = True
        own[fam.name] = mask
    att = lineage.attribute(tree, own)
    parts = []
    for fam in families:
        keys = att.members[fam.name]
        parts.append(
            pa.table(
                {
                    "family": pa.array([fam.name] * len(keys), pa.string()),
                    "model_key": pa.array(keys, pa.int64()),
                    "depth": pa.array(att.depth[fam.name], pa.int16()),
                    "families": pa.array(att.families_of[keys], pa.int16()),
                }
            )
        )
    mark("attribute")
    attr = pa.concat_tables(parts)
    con.register("attr_arrow", attr)
    con.execute("CREATE TEMP TABLE a AS SELECT * FROM attr_arrow")
    con.unregister("attr_arrow")
    wh.write_arrow(
        "census_attribution",
        day,
        run_id,
        _table(con.sql(f"SELECT {const}, * FROM a ORDER BY family, model_key").to_arrow_table()),
        **_KEYED,
    )

    mark("write_attribution")
    # ---- summaries (small)
    fams = pa.table(
        {
            "family": [f.name for f in families],
            "label": [f.label for f in families],
            "region": [f.region for f in families],
            "pos": list(range(len(families))),
        }
    )
    region_of: dict[str, str] = {}
    for f in families:
        for a_ in f.authors:
            region_of.setdefault(a_, f.region)
    con.register("fams", fams)
    con.register("regions", pa.table({"author": list(region_of), "region": list(region_of.values())}))
    d = f"DATE '{day.isoformat()}'"
    wh.write_arrow(
        "census_family",
        day,
        run_id,
        _table(
            con.sql(f"""
        SELECT {const}, f.family, f.label, f.region, count(m.model_key) AS descendants,
               count(m.model_key) FILTER (a.depth = 1) AS direct,
               count(m.model_key) FILTER (m.relation = 'finetune') AS finetunes,
               count(m.model_key) FILTER (m.relation = 'adapter') AS adapters,
               count(m.model_key) FILTER (m.relation = 'quantized') AS quantizations,
               count(m.model_key) FILTER (m.relation = 'merge') AS merges,
               max(a.depth) FILTER (m.model_key IS NOT NULL) AS max_depth,
               coalesce(sum(m.downloads_30d), 0) AS descendants_downloads_30d,
               coalesce(sum(m.likes), 0) AS descendants_likes,
               count(m.model_key) FILTER (m.created_at::DATE = {d}) AS new_descendants,
               count(m.model_key) FILTER (a.families > 1) AS shared_descendants
        FROM fams f LEFT JOIN a USING (family) LEFT JOIN m USING (model_key)
        GROUP BY ALL ORDER BY any_value(f.pos)""").to_arrow_table()
        ),
    )
    wh.write_arrow(
        "census_share",
        day,
        run_id,
        _table(
            con.sql(f"""
        WITH fam AS (SELECT date_trunc('month', m.created_at)::DATE AS month, a.family, count(*) AS n
                     FROM a JOIN m USING (model_key) WHERE m.created_at IS NOT NULL GROUP BY ALL),
             tracked AS (SELECT date_trunc('month', m.created_at)::DATE AS month, count(DISTINCT a.model_key) AS n
                         FROM a JOIN m USING (model_key) WHERE m.created_at IS NOT NULL GROUP BY ALL),
             hub AS (SELECT date_trunc('month', created_at)::DATE AS month, count(*) AS n FROM m
                     WHERE derived AND created_at IS NOT NULL GROUP BY ALL)
        SELECT {const}, fam.month, fam.family, fam.n AS new_derivatives, fam.n / tracked.n AS share,
               fam.n / hub.n AS share_of_hub
        FROM fam JOIN tracked USING (month) JOIN hub USING (month) ORDER BY month, family""").to_arrow_table()
        ),
    )
    wh.write_arrow(
        "census_hub",
        day,
        run_id,
        _table(
            con.sql(f"""
        WITH by_author AS (SELECT coalesce(r.region, 'other') AS region, m.author, count(*) AS models,
                                  coalesce(sum(m.downloads_30d), 0) AS d30, coalesce(sum(m.likes), 0) AS likes
                           FROM m LEFT JOIN regions r USING (author) GROUP BY ALL),
             regions AS (SELECT region, author, models, d30, likes FROM by_author
                         UNION ALL
                         SELECT 'all', author, sum(models), sum(d30), sum(likes) FROM by_author GROUP BY author)
        SELECT {const}, region, sum(models) AS models, sum(d30) AS downloads_30d, sum(likes) AS likes,
               CASE WHEN sum(d30) > 0 THEN sum(d30 * d30) / (sum(d30) * sum(d30)) END AS hhi_authors
        FROM regions GROUP BY region ORDER BY region""").to_arrow_table()
        ),
    )
    month0 = day.replace(day=1)
    wh.write_arrow(
        "census_authors",
        day,
        run_id,
        _table(
            con.sql(f"""
        SELECT {const}, DATE '{month0.isoformat()}' AS month, a.family, m.author, count(*) AS derivatives,
               row_number() OVER (PARTITION BY a.family ORDER BY count(*) DESC, m.author) AS rank
        FROM a JOIN m USING (model_key)
        WHERE m.created_at >= DATE '{month0.isoformat()}' AND m.created_at < {d} + INTERVAL 1 DAY
        GROUP BY a.family, m.author QUALIFY rank <= 10 ORDER BY family, rank""").to_arrow_table()
        ),
    )
    models = con.execute("SELECT count(*) FROM m").fetchone()[0]
    dangling = con.execute("SELECT count(*) FROM keys WHERE model_id NOT IN (SELECT model_id FROM m)").fetchone()[0]
    stats = {
        "models": int(models),
        "edges": len(tree.child),
        "roots": att.roots - int(n - models - dangling),
        "dangling_parents": int(dangling),
        "cycles": att.cycles,
        "models_in_cycles": att.models_in_cycles,
        "self_references": att.self_references,
        "unrooted": att.unrooted,
        "multi_family": int((att.families_of > 1).sum()),
    }
    mark("summaries")
    structlog.get_logger("tracker.census").info("census built", seconds=steps, **stats)
    wh.write_arrow(
        "census_stats", day, run_id, pa.Table.from_pylist([{"run_id": run_id, "day": day, **stats, "source": source}])
    )
    return stats


def _table(t) -> pa.Table:
    """DuckDB's Arrow result (a table, or a record batch reader in newer versions) as a table."""
    return t.read_all() if hasattr(t, "read_all") else t
