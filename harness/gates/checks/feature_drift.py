"""Feature drift: each schema column of a golden set against the data it should resemble.

Two comparisons per golden set, each column its own testcases
(``feature_drift.<golden>.<comparison>::<column>.<test>``):

- ``training``: the training data (``training.path``) is the reference, golden the current;
- ``previous``: the golden set's previous version (the version folder before it, by the
  manifests' creation date, then name) is the reference; skipped when there is none.

Numeric columns get ``psi`` and ``ks``, categorical ones (string, boolean) ``psi`` and
``chi2``; the methods and thresholds are in ``harness/stats/drift.py`` and
``gates.feature_drift`` (docs/gates.md, "Feature drift"). Production traffic is not compared
yet: the harness keeps no request logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harness.config import ColumnRule, FeatureDriftSpec, HarnessConfig
from harness.data import golden
from harness.data.datasets import read_dataset
from harness.gates.context import RunContext
from harness.gates.inputs import Problem
from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.gates.result import GateResult, GateSpec, fmt
from harness.stats import drift as stats

if TYPE_CHECKING:
    from harness.gates.state import GateState

READS_DATA = True
CALLS_MODEL = False

NUMERIC_DTYPES = ("integer", "float", "number")


def problems(context: RunContext) -> list[Problem]:
    """Training data must be named (the datasets' files and columns are checked for every
    check that reads data)."""
    if context.config.training is None:
        return [Problem("training.path", "feature_drift compares golden data with the training "
                        "data, and the config names none; add training: {name: train, path: "
                        "data/train.csv} or leave feature_drift out of the profile")]
    return []


def tests_for(rule: ColumnRule) -> tuple[str, str]:
    """The two tests a column gets: PSI, then KS (numeric) or chi-square (categorical)."""
    return ("psi", "ks") if rule.dtype in NUMERIC_DTYPES else ("psi", "chi2")


def judge_column(reference: pd.Series, current: pd.Series, test: str, numeric: bool,
                 spec: FeatureDriftSpec, column: str, reference_name: str,
                 dataset: str) -> GateResult:
    """One drift test of one column, ``current`` (the golden set) against ``reference``."""
    # The values each test reads: a numeric test leaves missing values out, a categorical
    # one counts them as a value of their own.
    rows, reference_rows = ((int(current.notna().sum()), int(reference.notna().sum()))
                            if numeric else (len(current), len(reference)))
    props = GateProperties(column=column, metric=test, reference=reference_name, rows=rows,
                           reference_rows=reference_rows, min_rows=spec.min_rows)
    where = f"column '{column}' of '{dataset}' against {reference_name}"
    if min(rows, reference_rows) < spec.min_rows:
        return GateResult(Outcome.SKIPPED, f"{where}: {min(rows, reference_rows)} values, "
                                           f"{spec.min_rows} needed (gates.feature_drift."
                                           "min_rows)", props)
    if test == "psi":
        value = stats.psi(reference, current, numeric, spec.bins)
        props = replace(props, value=Figure.of(value),
                        threshold=fmt(spec.psi_max))
        ok = value <= spec.psi_max
        return GateResult(Outcome.of(ok), f"{where}: PSI {fmt(value)} "
                                          f"{'within' if ok else 'above'} {fmt(spec.psi_max)}",
                          props)
    result = stats.ks(reference, current) if test == "ks" else stats.chi_square(reference,
                                                                                 current)
    props = replace(props, value=Figure.of(result.statistic),
                        p_value=Figure.of(result.p_value, ".3g"))
    if test == "ks":
        props = replace(props, threshold=fmt(spec.ks_max))
        moved = result.statistic > spec.ks_max and result.p_value < spec.p_value_min
        text = (f"{where}: KS statistic {fmt(result.statistic)} (limit {fmt(spec.ks_max)}), "
                f"p = {result.p_value:.3g} (limit {spec.p_value_min:g})")
    else:
        props = replace(props, threshold=f"p >= {spec.p_value_min:g}")
        moved = result.p_value < spec.p_value_min
        text = (f"{where}: chi-square {result.statistic:.2f}, p = {result.p_value:.3g} "
                f"(limit {spec.p_value_min:g})")
    return GateResult(Outcome.of(not moved), text + (": the distribution moved" if moved
                                                     else ""), props)


@dataclass(frozen=True)
class Reference:
    """The sample a golden set is compared with: its name in messages, and its file."""

    label: str
    path: Path | None  # None: there is none (no previous golden version)
    why_none: str = ""


def previous_version(config: HarnessConfig, golden_path: Path) -> Reference:
    """The golden set's previous version: the version folder beside this one created
    before it (ties by name), holding a file of the same name."""
    folder = config.resolve(golden_path).parent
    current = golden.read_manifest(folder)

    def order(manifest: golden.Manifest) -> tuple[str, str]:
        return manifest.created, manifest.version

    versions = [(golden.read_manifest(f), f) for f in golden.find_versions(folder.parent)]
    earlier = sorted(((m, f) for m, f in versions
                      if m.dataset == current.dataset and order(m) < order(current)),
                     key=lambda pair: order(pair[0]))
    if not earlier:
        return Reference("no previous version", None,
                         f"'{current.dataset}' {current.version} is its first golden version")
    previous, previous_folder = earlier[-1]
    path = previous_folder / golden_path.name
    if not path.is_file():
        return Reference(f"{previous.dataset} {previous.version}", None,
                         f"{previous.dataset} {previous.version} has no {path.name}")
    return Reference(f"{previous.dataset} {previous.version}", path)


def _frame_of(reference: Reference) -> pd.DataFrame:
    assert reference.path is not None
    golden.verify(reference.path.parent)
    return read_dataset(reference.label, reference.path).frame


def gates(state: GateState) -> Iterator[GateSpec]:
    config = state.config
    spec = config.gates.feature_drift
    training = config.training
    for dataset in config.golden:
        name = dataset.name
        comparisons: list[tuple[str, Reference]] = []
        if training is not None:
            comparisons.append(("training", Reference(f"training data '{training.name}'",
                                                      config.resolve(training.path))))
        comparisons.append(("previous", previous_version(config, dataset.path)))
        for segment, reference in comparisons:
            cache: dict[str, pd.DataFrame] = {}

            def load(segment=segment, reference=reference, cache=cache) -> pd.DataFrame:
                if "frame" not in cache:
                    cache["frame"] = (state.dataset(training.name).frame
                                      if segment == "training" and training is not None
                                      else _frame_of(reference))
                return cache["frame"]

            for column, rule in config.data_schema.columns.items():
                for test in tests_for(rule):
                    def judge(name=name, column=column, test=test, rule=rule,
                              reference=reference, load=load) -> GateResult:
                        if reference.path is None:
                            return GateResult(Outcome.SKIPPED, f"column '{column}' of '{name}':"
                                              f" no earlier golden data ({reference.why_none})",
                                              GateProperties(column=column, metric=test))
                        frame = state.dataset(name).frame
                        return judge_column(load()[column], frame[column], test,
                                            rule.dtype in NUMERIC_DTYPES, spec, column,
                                            reference.label, name)

                    def prepare(name=name, reference=reference, load=load) -> object:
                        state.dataset(name)
                        return load() if reference.path is not None else None

                    yield GateSpec("feature_drift", name, f"{column}.{test}", prepare, judge,
                                   segment=segment)
