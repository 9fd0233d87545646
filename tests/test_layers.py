"""Imports flow one way: cli -> daemon -> jobs -> {hub, warehouse, trends -> report} -> config."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "tracker"

# module -> tracker modules it must never import
FORBIDDEN = {
    "config": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report", "status"},
    "hub": {"cli", "daemon", "jobs", "warehouse", "trends", "report", "status"},
    "warehouse": {"cli", "daemon", "jobs", "hub", "trends", "report", "status", "export"},
    "export": {"cli", "daemon", "jobs", "hub", "trends", "report", "status", "config"},
    "trends": {"cli", "daemon", "jobs", "hub", "warehouse", "report", "status", "config"},
    "records": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report"},
    "report": {"cli", "daemon", "jobs", "hub", "warehouse"},
    "jobs": {"cli", "daemon"},
    "daemon": {"cli"},
    "status": {"cli"},
    # leaves: the library adapters import no other tracker module
    "locks": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report", "status", "config", "records", "cron"},
    "cron": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report", "status", "config", "records", "locks"},
    "lineage": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report", "status", "config", "records"},
    "census_tables": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report", "status", "config"},
    "columns": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report", "status", "config", "census_tables"},
    "census_store": {"cli", "daemon", "jobs", "hub", "trends", "report", "status"},
    "census_build": {"cli", "daemon", "jobs", "hub", "trends", "report", "status"},
    "census_read": {"cli", "daemon", "jobs", "hub", "trends", "report", "status"},
    "sandbox": {"cli", "daemon", "jobs", "hub", "trends", "report", "status", "warehouse"},
    "pacer": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report", "status", "config", "records"},
    "redact": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report", "status", "config", "records"},
    "machine": {"cli", "daemon", "jobs", "hub", "trends", "report", "status"},
    "output": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report", "status", "config", "demo"},
    "demo": {"cli"},
    "demo_emulator": {"cli", "daemon", "jobs", "hub", "warehouse", "trends", "report", "status", "demo"},
}


def tracker_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("tracker.")}
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "tracker":
                out |= {a.name for a in node.names}
            elif node.module.startswith("tracker."):
                out.add(node.module.split(".")[1])
    return out


def module_files(mod: str) -> list[Path]:
    """A module's file, or every file of a package of that name."""
    return [PKG / f"{mod}.py"] if (PKG / f"{mod}.py").exists() else sorted((PKG / mod).glob("*.py"))


def test_import_direction():
    wrong = []
    for mod, banned in FORBIDDEN.items():
        files = module_files(mod)
        assert files, f"no module tracker/{mod}"
        for path in files:
            bad = tracker_imports(path) & banned
            if bad:
                wrong.append(f"{path.relative_to(PKG.parent)} imports {sorted(bad)}")
    assert not wrong, wrong


def test_only_hub_imports_huggingface_hub_and_only_warehouse_opens_duckdb():
    for path in PKG.rglob("*.py"):
        if "hubsim" in path.parts:
            continue  # the emulator is a separate tool
        text = path.read_text()
        if path.relative_to(PKG).parts[0] not in ("hub.py", "hub"):
            assert "import huggingface_hub" not in text and "from huggingface_hub" not in text, path
        if "warehouse" not in path.parts:
            assert "duckdb.connect" not in text, path
