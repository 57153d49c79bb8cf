"""The gate properties codec: what a gate writes is what every JUnit reader reads back."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.gates.result import GateResult
from harness.run.junit import Case, write_junit
from harness.run.verdict import read_junit

FIELDS = [f for f in dataclasses.fields(GateProperties) if f.name != "extra"]
NAMES = [f.name for f in FIELDS]
# XML 1.0 cannot hold control characters other than tab and newlines.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
# The same examples, without hypothesis's clock: on a shared 2-core host a draw or an
# example can take a second (load average 12 failed the too-slow health check once).
ON_A_BUSY_HOST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_a_written_set_reads_back_exactly_with_its_types() -> None:
    pairs = [("metric", "roc_auc"), ("dataset", "credit-v1"), ("value", "0.8300"),
             ("ci_low", "nan"), ("rows", "1114"), ("min", "0.8000"), ("segment", "overall")]
    props = GateProperties.from_pairs(pairs)
    assert props.value == Figure("0.8300") and props.value.number == 0.83
    assert props.ci_low is not None and props.ci_low.number is None, "NaN is no figure"
    assert props.rows == 1114 and props.extra == {}
    assert dict(props.to_pairs()) == dict(pairs)


def test_a_team_s_own_property_and_one_no_field_can_hold_travel_in_extra() -> None:
    props = GateProperties.from_pairs([("screenshot", "a.png"), ("rows", "12 rows")])
    assert props.rows is None
    assert props.extra == {"screenshot": "a.png", "rows": "12 rows"}
    assert GateProperties.from_pairs(props.to_pairs()) == props


def test_a_field_s_property_is_not_accepted_in_extra() -> None:
    with pytest.raises(ValueError, match="has a field"):
        GateProperties(extra={"metric": "roc_auc"})


def test_every_property_the_gates_write_has_a_field() -> None:
    # An empty load figure (no successful requests) stays empty.
    assert GateProperties.from_pairs([("value", "")]).value == Figure("")
    assert set(NAMES) >= {
        "metric", "value", "min", "max", "threshold", "baseline", "ratio", "dataset",
        "segment", "ci_low", "ci_high", "html", "deepchecks_suite", "endpoint", "report"}


@ON_A_BUSY_HOST
@given(st.dictionaries(st.sampled_from(NAMES) | TEXT, TEXT, max_size=8))
def test_any_pairs_read_back_exactly(pairs: dict[str, str]) -> None:
    props = GateProperties.from_pairs(pairs.items())
    assert dict(props.to_pairs()) == pairs
    assert GateProperties.from_pairs(props.to_pairs()) == props


def _value(kind: str) -> st.SearchStrategy[object]:
    if kind == "int":
        return st.integers()
    if kind == "Figure":
        return st.builds(Figure, TEXT) | st.builds(
            Figure.of, st.floats(allow_nan=True, allow_infinity=True))
    return TEXT


@st.composite
def _properties(draw: st.DrawFn) -> GateProperties:
    chosen = draw(st.lists(st.sampled_from(FIELDS), unique_by=lambda f: f.name, max_size=10))
    values = {f.name: draw(_value(str(f.type).split(" |")[0])) for f in chosen}
    extra = draw(st.dictionaries(TEXT.filter(lambda k: k not in NAMES), TEXT, max_size=3))
    return GateProperties(**values, extra=extra)


@ON_A_BUSY_HOST
@given(_properties())
def test_any_properties_read_back_equal(props: GateProperties) -> None:
    assert GateProperties.from_pairs(props.to_pairs()) == props


@ON_A_BUSY_HOST
@given(_properties(), st.sampled_from(list(Outcome)))
def test_properties_survive_a_junit_file(tmp_path_factory, props, outcome) -> None:
    path = tmp_path_factory.mktemp("junit") / "cases.xml"
    write_junit(path, "s", [Case("post_deploy", "check", outcome, "why", props)])
    (case,), problems = read_junit([path])
    assert not problems
    assert (case.status, case.properties) == (outcome, props)


def test_a_gate_result_says_its_outcome() -> None:
    assert GateResult(Outcome.PASSED, "ok").passed
    assert not GateResult(Outcome.SKIPPED, "later").passed
    assert Outcome.of(False) is Outcome.FAILED and Outcome.ERROR.counts_against
