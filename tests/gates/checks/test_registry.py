"""The check registry: every module under harness/gates/checks/ is a check, and the only list."""

from __future__ import annotations

import typing

import pytest

from harness.config.project import ProfileSpec
from harness.gates.checks import CHECKS, check


@pytest.mark.parametrize("name", CHECKS)
def test_each_check_module_provides_what_preflight_and_the_plugin_call(name: str) -> None:
    module = check(name)
    assert isinstance(module.READS_DATA, bool) and isinstance(module.CALLS_MODEL, bool)
    assert callable(module.gates) and callable(module.problems)


def test_profiles_accept_exactly_the_registered_checks() -> None:
    accepted = typing.get_args(ProfileSpec.model_fields["checks"].annotation)[0]
    assert set(typing.get_args(accepted)) == set(CHECKS)
    assert {"schema", "quality", "drift", "load", "benchmark", "deepchecks",
            "contract"} <= set(CHECKS)


def test_an_unknown_check_is_named_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="the checks are benchmark, contract"):
        check("latency")
