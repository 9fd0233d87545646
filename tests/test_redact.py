"""tracker.redact by hand: every shape of secret the module promises to hide, in the edit-test loop (the
end-to-end token tests in test_collect.py and test_faults.py are marked slow)."""

from __future__ import annotations

from tracker import redact as r


def test_the_configured_token_is_hidden_wherever_it_appears(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "s3cr3t-value")
    assert r.redact("401 for s3cr3t-value; again s3cr3t-value.") == "401 for ***; again ***."


def test_a_registered_secret_is_hidden_and_the_longer_of_two_overlapping_first(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(r, "_KNOWN", set())
    r.register("abcd")
    r.register("abcdefgh")
    r.register("xyz")  # under 4 characters: not registered (it would blank ordinary words)
    # the longer secret first: replacing "abcd" first would leave "***efgh" behind
    assert r.redact("key=abcdefgh other=abcd xyz") == "key=*** other=*** xyz"


def test_token_shaped_strings_and_bearer_credentials(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(r, "_KNOWN", set())
    assert r.redact("token hf_AbCdEf123456 rejected") == "token hf_*** rejected"
    assert r.redact("hf_short stays") == "hf_short stays"  # fewer than 8 characters after hf_
    assert r.redact('{"Authorization": "Bearer abc.def-ghi"}') == '{"Authorization": "Bearer ***"}'
    assert r.redact("authorization: bearer xyz, next") == "authorization: bearer ***, next"


def test_non_strings_pass_and_containers_are_walked(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "tok-1234")
    assert r.redact(None) is None and r.redact(7) == 7 and r.redact("") == ""
    value = {"error": "bad tok-1234", "n": 3, "trail": ["tok-1234", ("x tok-1234", 1)]}
    assert r.redact_all(value) == {"error": "bad ***", "n": 3, "trail": ["***", ("x ***", 1)]}
