"""The kind registry: every kind's metrics agree with every other kind's on a shared name
and with the config's metric names, and no code outside ``harness/kinds/`` switches on a
kind's name."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

import harness
from harness import kinds
from harness.config.gates import MetricName

PACKAGE = Path(harness.__file__).parent
_COMPARISONS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)


def _named_kind(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "kind"
    # numpy's ``dtype.kind`` is a dtype's code ("i", "f"), not a model kind.
    return (isinstance(node, ast.Attribute) and node.attr == "kind"
            and not (isinstance(node.value, ast.Name) and node.value.id == "dtype"))


def kind_comparisons(source: str) -> list[int]:
    """Lines that compare a name or attribute called ``kind`` with anything."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Compare)
            and any(isinstance(op, _COMPARISONS) for op in node.ops)
            and any(_named_kind(side) for side in (node.left, *node.comparators))]


def test_the_search_finds_what_it_looks_for() -> None:
    source = ('if config.model.kind == "binary": pass\n'
              'x = kind in ("multiclass",)\n'
              'y = kind.needs_positive_label\n'
              'z = dtype.kind in "iuf"\n'
              'w = "regression" != evaluation.kind\n')
    assert kind_comparisons(source) == [1, 2, 5]


def test_no_kind_is_compared_by_name_outside_the_kinds_package() -> None:
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}"
             for path in sorted(PACKAGE.rglob("*.py"))
             if (PACKAGE / "kinds") not in path.parents
             for line in kind_comparisons(path.read_text(encoding="utf-8"))]
    assert not found, ("ask the Kind (harness/kinds/) instead of comparing kinds: "
                       + ", ".join(found))


def test_the_registry_holds_the_three_kinds_by_name() -> None:
    assert kinds.KIND_NAMES == ("binary", "multiclass", "regression")
    for name in kinds.KIND_NAMES:
        assert kinds.kind_of(name).name == name
    with pytest.raises(ValueError, match="no model kind 'ranking'"):
        kinds.kind_of("ranking")


@pytest.mark.parametrize("kind", list(kinds.KINDS.values()), ids=kinds.KIND_NAMES)
def test_each_metric_has_one_direction_and_a_range(kind: kinds.Kind) -> None:
    names = kind.metric_names
    assert len(set(names)) == len(names), f"{kind.name} lists a metric twice"
    for metric in kind.metrics:
        assert metric.low < metric.high, metric
        assert not (math.isinf(metric.low) and math.isinf(metric.high)), metric
        # A shared name means one metric: the same direction and range in every kind.
        assert kinds.METRICS[metric.name] == metric
        assert kinds.higher_is_better(metric.name) is metric.higher_is_better


def test_a_metric_shared_by_kinds_agrees_everywhere() -> None:
    seen: dict[str, kinds.Metric] = {}
    for kind in kinds.KINDS.values():
        for metric in kind.metrics:
            assert seen.setdefault(metric.name, metric) == metric, (
                f"{metric.name} differs between kinds: {seen[metric.name]} and {metric}")
    shared = {m.name for m in kinds.BINARY.metrics} & {m.name for m in kinds.MULTICLASS.metrics}
    assert shared == {"log_loss", "accuracy"}


def test_the_config_accepts_every_kinds_metrics_and_no_other() -> None:
    assert MetricName.__args__ == kinds.METRIC_NAMES
    assert set(kinds.METRIC_NAMES) == {n for k in kinds.KINDS.values() for n in k.metric_names}


def test_a_per_class_recall_is_a_recall() -> None:
    assert kinds.metric("recall[setosa]") == kinds.METRICS["recall"]
    assert kinds.higher_is_better("recall[setosa]")
    assert not kinds.higher_is_better("abs_error_p90")


def test_each_kind_says_how_its_model_is_called() -> None:
    binary, multiclass, regression = (kinds.kind_of(n) for n in kinds.KIND_NAMES)
    assert [k.predict_method for k in (binary, multiclass, regression)] == [
        "predict_proba", "predict_proba", "predict"]
    assert [k.answer_field for k in (binary, multiclass, regression)] == [
        "probability", "probabilities", "value"]
    assert [k.name for k in kinds.KINDS.values() if k.needs_positive_label] == ["binary"]
    assert [k.name for k in kinds.KINDS.values() if k.has_classes] == ["multiclass"]
    assert [k.name for k in kinds.KINDS.values() if not k.is_classifier] == ["regression"]


_HEAVY = {"numpy", "pandas", "scipy", "sklearn", "matplotlib"}
_LIGHT = ("__init__", "base", "names", "registry", "binary", "multiclass", "regression")


@pytest.mark.parametrize("module", _LIGHT)
def test_the_registry_imports_nothing_heavy(module: str) -> None:
    """The config reads the registry on every command: the kinds' computations (numpy,
    pandas, scikit-learn) load only when a method needs them."""
    tree = ast.parse((PACKAGE / "kinds" / f"{module}.py").read_text(encoding="utf-8"))
    imported = set()
    for node in tree.body:  # module level only; TYPE_CHECKING blocks never run
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not {name.split(".")[0] for name in imported} & _HEAVY
    # ... nor anything of the package that would (outputs, labels, metrics/).
    ours = {name.removeprefix("harness.kinds.") for name in imported
            if name.startswith("harness.kinds.")}
    assert ours <= set(_LIGHT), ours - set(_LIGHT)
