"""Every command explains itself (help with an example) and is in the README."""

from pathlib import Path

from click.testing import CliRunner

from tracker.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_command_has_help_with_an_example_and_is_documented():
    assert set(cli.commands) >= {
        "collect",
        "sql",
        "status",
        "tree",
        "report",
        "daemon",
        "import",
        "backfill",
        "export",
        "hubsim",
    }
    for name, cmd in cli.commands.items():
        res = CliRunner().invoke(cli, [name, "--help"])
        assert res.exit_code == 0, name
        assert len((cmd.help or "").strip()) > 40, f"`tracker {name}` has no real help text"
        assert "example" in res.output.lower(), f"`tracker {name} --help` shows no example"
        assert f"tracker {name}" in README, f"`tracker {name}` is not in the README"


def test_readme_starts_with_the_two_commands():
    block = README.split("```bash", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 2
    assert lines[0] == "pip install -e . && tracker demo" and "pytest" in lines[1]


def test_readme_installs_the_test_programs_as_ci_does():
    """README's "Tests" section and .ci/run install the same Debian packages (and the skip messages say so)."""
    import re

    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    packages = [p.replace("-qq ", "") for p in re.findall(r"apt-get install -y (.+?) >/dev/null", ci)]
    assert len(packages) >= 2
    for line in packages:
        assert f"sudo apt-get install -y {line}\n" in README, line
    for test in ("test_report.py", "test_daemon_deploy.py"):
        assert f"apt-get install -y {packages[0]}" in (Path(__file__).parent / test).read_text(), test
