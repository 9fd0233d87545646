"""config.yaml validation: the shipped file validates, and each kind of mistake says where and what."""

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tracker import config
from tracker.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_validates():
    s = config.load(ROOT / "config.yaml")
    names = [f.name for f in s.families]
    assert names == ["llama", "qwen", "deepseek", "mistral", "gemma", "grok", "smollm", "starcoder", "bloom"]
    gemma = s.family("gemma")
    assert gemma.authors == ("google",) and gemma.search == "gemma" and gemma.region == "us"
    assert gemma.matches("google/gemma-2-9b") and not gemma.matches("google/t5-small")
    assert {f.region for f in s.families} == {"us", "china", "eu"}
    # relative to the config file, not to the cwd
    assert s.warehouse == ROOT / "warehouse"
    assert s.hub.page_size == 1000 and s.hub.endpoint is None
    assert s.hub.retry_wait_s == 0.5  # unset: huggingface_hub retries after 0.5, 1, 2, 4, 8 s as before the key


def _write(tmp_path, doc) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
    return p


GOOD = {"families": [{"name": "qwen", "label": "Qwen", "authors": ["Qwen"], "region": "china"}]}


@pytest.mark.parametrize(
    "doc, key, words",
    [
        ({**GOOD, "wharehouse": "x/"}, "wharehouse", "unknown key"),
        (
            {"families": [{**GOOD["families"][0], "include": "gemma("}]},
            "families[0] (qwen).include",
            "not a valid regular expression",
        ),
        ({"families": GOOD["families"] * 2}, "families[1] (qwen).name", "duplicate family name"),
        ({"families": [{**GOOD["families"][0], "authors": []}]}, "families[0] (qwen).authors", "at least one"),
        ({**GOOD, "hub": {"endpoint": "127.0.0.1:8765"}}, "hub.endpoint", "not an http(s) URL"),
        ({**GOOD, "hub": {"page_size": 5000}}, "hub.page_size", "1 to 1000"),
        ({**GOOD, "hub": {"retry_wait_s": 0}}, "hub.retry_wait_s", "seconds from 0.01 to 8"),  # a busy loop
        ({**GOOD, "hub": {"retry_wait_s": 30}}, "hub.retry_wait_s", "got 30"),  # past the backoff's 8 s cap
        ({**GOOD, "hub": {"retry_wait_s": "1s"}}, "hub.retry_wait_s", "got '1s'"),
        ({"families": [{**GOOD["families"][0], "region": "asia"}]}, "families[0] (qwen).region", "not one of"),
        ({"families": []}, "families", "non-empty list"),
        ({**GOOD, "schedule": {"collect": "0 25 * * *"}}, "schedule.collect", "0 25 * * *"),
        ({**GOOD, "schedule": {"colect": "0 6 * * *"}}, "schedule.colect", "unknown key"),
        ({**GOOD, "schedule": {"collect": "0 6 * *"}}, "schedule.collect", "has 4 fields"),
        ({"families": [{"name": "Qwen!", "authors": ["Qwen"], "region": "china"}]}, "families[0].name", "identifier"),
    ],
)
def test_each_mistake_names_file_key_and_example(tmp_path, doc, key, words):
    p = _write(tmp_path, doc)
    with pytest.raises(config.ConfigError) as err:
        config.load(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}: {key}:"), msg
    assert words in msg
    assert "Example of a right value" in msg


def test_cli_exits_2_before_any_side_effect(tmp_path):
    wh = tmp_path / "wh"
    p = _write(tmp_path, {**GOOD, "warehouse": str(wh), "hub": {"timeout_s": -1}})
    res = CliRunner().invoke(cli, ["collect", "--config", str(p)])
    assert res.exit_code == 2
    assert "hub.timeout_s" in res.output and "Example" in res.output
    assert not wh.exists()


def test_missing_file_and_bad_yaml(tmp_path):
    res = CliRunner().invoke(cli, ["status", "--config", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and "config file not found" in res.output
    p = _write(tmp_path, "families: [unclosed")
    with pytest.raises(config.ConfigError, match="not valid YAML"):
        config.load(p)


def test_config_from_environment(tmp_path, monkeypatch):
    p = _write(tmp_path, {**GOOD, "warehouse": "w/"})
    monkeypatch.setenv("TRACKER_CONFIG", str(p))
    assert config.load(None).warehouse == tmp_path / "w"


@pytest.mark.parametrize(
    "doc, key, meant",
    [
        ({**GOOD, "warehous": "x/"}, "warehous", "warehouse"),
        ({**GOOD, "hub": {"timeout": 30}}, "hub.timeout", "timeout_s"),
        ({**GOOD, "schedul": {}}, "schedul", "schedule"),
    ],
)
def test_unknown_key_says_did_you_mean(tmp_path, doc, key, meant):
    with pytest.raises(config.ConfigError) as e:
        config.load(_write(tmp_path, doc))
    assert f"{key}: unknown key" in str(e.value) and f"did you mean '{meant}'?" in str(e.value)


HUGE = "1" + "0" * 400  # a YAML integer too large for a float
TOO_LARGE = [  # (the section holding HUGE, the key the message must name)
    ("hub:\n  max_models: {n}\n", "hub.max_models"),
    ("hub:\n  page_size: {n}\n", "hub.page_size"),
    ("hub:\n  concurrency: {n}\n", "hub.concurrency"),
    ("hub:\n  timeout_s: {n}\n", "hub.timeout_s"),
    ("hub:\n  retry_wait_s: {n}\n", "hub.retry_wait_s"),
    ("warehouse_min_free_mb: {n}\n", "warehouse_min_free_mb"),
    ("export:\n  out: x/\n  days: {n}\n", "export.days"),
    ("schedule:\n  jitter_s: {n}\n", "schedule.jitter_s"),
]


@pytest.mark.parametrize("section, key", TOO_LARGE, ids=[key for _, key in TOO_LARGE])
def test_a_number_too_large_for_a_float_is_out_of_range_not_a_crash(tmp_path, section, key):
    p = _write(tmp_path, yaml.safe_dump(GOOD) + section.format(n=HUGE))
    with pytest.raises(config.ConfigError) as err:
        config.load(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}: {key}: must be ") and f"got {HUGE}" in msg, msg
