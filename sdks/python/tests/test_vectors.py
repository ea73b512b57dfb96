"""Every case of the shared vectors (../shared/vectors/*.json) through the Python rules."""

import pytest

from conftest import vectors
from tessera_verify.rules import RuleError, is_ip_allowed, matches_endpoint, parse_endpoint_pattern, parse_endpoint_patterns, parse_ip_entry, parse_relative_expiry

SCOPE = vectors("scope-match.json")
IP = vectors("ip-allowlist.json")
EXPIRY = vectors("expiry.json")


@pytest.mark.parametrize("case", SCOPE["cases"], ids=lambda c: f"{c['patterns']} {c['method']} {c['path']}")
def test_scope_match(case):
    assert matches_endpoint(parse_endpoint_patterns(case["patterns"]), case["method"], case["path"]) is case["allow"]


@pytest.mark.parametrize("pattern", SCOPE["invalid_patterns"])
def test_invalid_pattern(pattern):
    with pytest.raises(RuleError):
        parse_endpoint_pattern(pattern)


@pytest.mark.parametrize("case", IP["valid"], ids=lambda c: c["entry"])
def test_ip_entry(case):
    entry = [parse_ip_entry(case["entry"])]
    for address in case["allows"]:
        assert is_ip_allowed(entry, address), address
    for address in case["denies"]:
        assert not is_ip_allowed(entry, address), address


@pytest.mark.parametrize("entry", IP["invalid"])
def test_invalid_ip_entry(entry):
    with pytest.raises(RuleError):
        parse_ip_entry(entry)


@pytest.mark.parametrize("case", EXPIRY["valid"], ids=lambda c: c["input"])
def test_expiry(case):
    assert parse_relative_expiry(case["input"]) == case["seconds"]


@pytest.mark.parametrize("text", EXPIRY["invalid"])
def test_invalid_expiry(text):
    with pytest.raises(RuleError):
        parse_relative_expiry(text)
