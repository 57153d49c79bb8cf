"""Quality gates: a metric on a golden dataset holds its floor, is not inferior to the
baseline on a paired interval (bootstrap or analytic), and holds up on every slice.

Every judgment reports the measured value, its interval and the bound, in its message
and its properties.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from harness.config import HarnessConfig, MetricGate
from harness.data import passport
from harness.data.slices import segments
from harness.errors import HarnessError, HistoryError
from harness.gates import decision
from harness.gates.context import RunContext
from harness.gates.decision import Decision
from harness.gates.evidence import Counts, shortfall
from harness.gates.inputs import Problem, access_problems, url_problems
from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.gates.recorded import passport_digests
from harness.gates.result import GateResult, GateSpec, fmt
from harness.kinds import PER_CLASS, expand, higher_is_better
from harness.kinds.labels import sorted_classes
from harness.stats.estimates import Estimate, PairedEstimate

if TYPE_CHECKING:
    from harness.gates.state import GateState


READS_DATA = True
CALLS_MODEL = True


def problems(context: RunContext) -> list[Problem]:
    """Each golden set's slice columns and evidence (harness/gates/evidence.py), then the
    baseline the profile compares with: production's model, or each golden set's passport
    (its scores checked against their digest)."""
    found = _golden_problems(context.config)
    if context.profile.baseline == "production":
        return found + _production_problems(context.config)
    if context.profile.baseline == "passport":
        return found + _passport_problems(context.config)
    return found


def _golden_problems(config: HarnessConfig) -> list[Problem]:
    """A slice column a golden set lacks, and a golden set with too few positives or
    negatives to gate on. A file that cannot be read is the shared dataset checks' to
    report."""
    import pandas as pd

    from harness.gates.evaluation import labels
    from harness.gates.evidence import counts

    found = []
    for i, spec in enumerate(config.golden):
        path = config.resolve(spec.path)
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        for j, each in enumerate(config.slices):
            if each.column not in frame.columns:
                found.append(Problem(f"slices[{j}].column", (
                    f"slice '{each.name}': column '{each.column}' is not in golden set "
                    f"'{spec.name}' ({path}); correct the column or remove the slice")))
        if not config.gates.quality or frame.empty:
            continue
        try:
            y = labels(frame, config, spec.name)
        except HarnessError:
            continue
        reason = shortfall(counts(config.model.model_kind, y), config.gates.min_positives,
                           config.gates.min_negatives)
        if reason:
            found.append(Problem(f"golden[{i}].path", (
                f"golden set '{spec.name}' has too little evidence for its quality gates: "
                f"{reason}; add rows to it (`harness golden plan` says how many)")))
    return found


def _production_problems(config: HarnessConfig) -> list[Problem]:
    if config.production is not None:
        return access_problems(config, "production", config.production)
    env = config.release.production
    spec = config.environment(env)
    key = f"environments.{env}.url" if spec.url else f"environments.{env}.port"
    return url_problems(key, spec.address(), "the baseline 'production' compares with the "
                        f"model running in {env}; deploy one there, or use another baseline")


def _passport_problems(config: HarnessConfig) -> list[Problem]:
    found = []
    for i, spec in enumerate(config.golden):
        if not config.resolve(spec.path).is_file():
            continue  # preflight names the path itself (golden[i].path)
        try:
            # Its JSON against history, its scores against their digest, shape and range.
            missing = passport.baseline(config, spec, passport_digests(config)) is None
        except HistoryError:
            raise  # the store itself (locked, newer): its own refusal, not the passport's
        except HarnessError as exc:
            found.append(Problem(f"golden[{i}]", str(exc)))
            continue
        if missing:
            found.append(Problem(f"golden[{i}]", f"no passport for '{spec.name}' as it is now "
                                 "(the quality gates compare with it); record one with "
                                 "`harness golden bless --by NAME --reason TEXT`"))
    return found


def _props(name: str, dataset: str, estimate: Estimate, rows: int) -> GateProperties:
    return GateProperties(
        metric=name, dataset=dataset, value=Figure.of(estimate.value),
        ci_low=Figure.of(estimate.interval.low), ci_high=Figure.of(estimate.interval.high),
        ci_method=estimate.method, rows=rows,
    )


def _bounds(low: float | None, high: float | None) -> list[str]:
    texts = []
    if low is not None:
        texts.append(f"floor {fmt(low)}")
    if high is not None:
        texts.append(f"ceiling {fmt(high)}")
    return texts


def _figure(value: float | None) -> Figure | None:
    return Figure.of(value) if value is not None else None


def _judge(value: float, low: float | None, high: float | None) -> list[str]:
    problems = []
    if low is not None and value < low:
        problems.append(f"below its floor {fmt(low)}")
    if high is not None and value > high:
        problems.append(f"above its ceiling {fmt(high)}")
    return problems


def check_floor(name: str, gate: MetricGate, estimate: Estimate, rows: int, dataset: str,
                segment: str = "") -> GateResult:
    """The figure on all rows (or a slice's rows) against its absolute bounds."""
    low, high = (gate.slice_min, gate.slice_max) if segment else (gate.min, gate.max)
    props = _props(name, dataset, estimate, rows)
    where = f"'{dataset}'" + (f" slice {segment}" if segment else "")
    measured = f"{name} = {fmt(estimate.value)} {estimate.interval} on {where} ({rows} rows)"
    if math.isnan(estimate.value):
        return GateResult(Outcome.FAILED,
                          f"{name} is undefined on {where}: it holds one class only", props)
    texts = _bounds(low, high)
    props = replace(props, min=_figure(low), max=_figure(high))
    problems = _judge(estimate.value, low, high)
    if problems:
        return GateResult(Outcome.FAILED, f"{measured}, {' and '.join(problems)}", props)
    return GateResult(Outcome.PASSED, f"{measured}, within {' and '.join(texts)}", props)


def _evidence_props(found: Counts | None) -> dict[str, int | None]:
    if found is None:
        return {}
    return {"rows": found.rows, "positives": found.positives, "negatives": found.negatives}


def check_non_inferiority(name: str, gate: MetricGate, paired: PairedEstimate, rows: int,
                          dataset: str, baseline: str, confidence: float = 0.95,
                          found: Counts | None = None) -> GateResult:
    """The candidate may be worse than the baseline by at most ``max_drop``: three outcomes
    from the paired interval of the difference (harness/gates/decision.py). An inconclusive
    one fails (``on_inconclusive: fail``, the message starting "inconclusive") or passes
    with a warning property (``warn``); either way it says what the golden set can decide."""
    assert gate.max_drop is not None
    diff = paired.difference
    higher_better = higher_is_better(name)
    worst = diff.interval.low if higher_better else diff.interval.high
    worse_by = -worst if higher_better else worst
    found = found or Counts(rows)
    verdict = decision.decide(diff.value, diff.interval.low, diff.interval.high, gate.max_drop,
                              higher_better)
    se = decision.standard_error(diff.interval.low, diff.interval.high, confidence)
    detectable = decision.mde(se, confidence)
    plan = decision.needed(found.rows, found.positives, detectable, gate.max_drop)
    props = replace(
        _props(name, dataset, paired.candidate, rows),
        baseline=baseline,
        baseline_value=Figure.of(paired.baseline.value),
        difference=Figure.of(diff.value),
        difference_ci_low=Figure.of(diff.interval.low),
        difference_ci_high=Figure.of(diff.interval.high),
        max_drop=Figure.of(gate.max_drop),
        decision=str(verdict),
        mde=Figure.of(detectable),
        rows_needed=plan.rows if plan else None,
        positives_needed=plan.positives if plan else None,
        on_inconclusive=gate.on_inconclusive,
        **_evidence_props(found),
        degenerate_resamples=diff.degenerate or None,
    )
    message = (
        f"{name} = {fmt(paired.candidate.value)} vs {baseline} {fmt(paired.baseline.value)} "
        f"on '{dataset}' ({found}): difference {diff.value:+.4f}, "
        f"paired interval {diff.interval}"
    )
    if math.isnan(diff.value):
        return GateResult(Outcome.FAILED, f"{message}: undefined", props)
    if verdict is Decision.FAIL:
        drop = -diff.value if higher_better else diff.value
        return GateResult(Outcome.FAILED, f"{message}: worse by {fmt(drop)}, more than the "
                                          f"allowed {fmt(gate.max_drop)}", props)
    if verdict is Decision.INCONCLUSIVE:
        need = (f"about {plan.rows} rows" + (f" ({plan.positives} positives)"
                                             if plan.positives is not None else "")
                if plan else "more rows")
        why = ("resamples were degenerate" if math.isnan(worst)
               else f"may be worse by {fmt(worse_by)}")
        text = (f"inconclusive: {message} straddles the allowed drop {fmt(gate.max_drop)} "
                f"({why}): these {found.rows} rows can detect a drop of {fmt(detectable)} "
                f"(at {confidence:.0%}, power {decision.POWER:.0%}); {need} would decide "
                f"{fmt(gate.max_drop)}")
        if gate.on_inconclusive == "warn":
            return GateResult(Outcome.PASSED, text, replace(props, warning=text))
        return GateResult(Outcome.FAILED, text, props)
    return GateResult(Outcome.PASSED, f"{message}, within the allowed drop {fmt(gate.max_drop)} "
                                      f"(detectable drop {fmt(detectable)})", props)


def too_little(name: str, found: Counts, reason: str, minimums: tuple[int, int], dataset: str,
               segment: str, estimate: Estimate | None) -> GateResult:
    """Too little evidence (positives or negatives) to gate on: skipped with its counts,
    and the figure when it has one; never passed."""
    props = GateProperties(metric=name, dataset=dataset, **_evidence_props(found),
                           min_positives=minimums[0], min_negatives=minimums[1])
    figure = ""
    if estimate is not None and not math.isnan(estimate.value):
        props = replace(props, value=Figure.of(estimate.value))
        figure = f"{name} = {fmt(estimate.value)}; "
    where = f"slice {segment} of '{dataset}'" if segment else f"'{dataset}'"
    return GateResult(Outcome.SKIPPED, f"{where} ({found}) has too little evidence: {reason}; "
                                       f"{figure}reported, not gated", props)


def check_slice_gap(name: str, gate: MetricGate, segment_estimate: Estimate,
                    overall: Estimate, rows: int, dataset: str, segment: str) -> GateResult:
    """How far a slice falls behind the overall figure, in the metric's worse direction."""
    assert gate.max_slice_gap is not None
    gap = overall.value - segment_estimate.value
    if not higher_is_better(name):
        gap = -gap
    props = replace(_props(name, dataset, segment_estimate, rows),
                    overall=Figure.of(overall.value), gap=Figure.of(gap),
                    max_gap=Figure.of(gate.max_slice_gap))
    message = (f"{name} = {fmt(segment_estimate.value)} {segment_estimate.interval} on "
               f"'{dataset}' slice {segment} ({rows} rows) vs {fmt(overall.value)} overall: "
               f"gap {fmt(gap)}")
    if math.isnan(gap):
        return GateResult(Outcome.FAILED, f"{message}: undefined on this slice", props)
    if gap > gate.max_slice_gap:
        return GateResult(Outcome.FAILED,
                          f"{message}, more than the allowed {fmt(gate.max_slice_gap)}", props)
    return GateResult(Outcome.PASSED, f"{message}, within {fmt(gate.max_slice_gap)}", props)


def too_small(name: str, rows: int, minimum: int, dataset: str, segment: str,
              estimate: Estimate | None) -> GateResult:
    """A slice under the minimum size: reported with its figure, not gated."""
    props = GateProperties(metric=name, dataset=dataset, rows=rows, min_rows=minimum)
    figure = ""
    if estimate is not None and not math.isnan(estimate.value):
        props = replace(props, value=Figure.of(estimate.value))
        figure = f"{name} = {fmt(estimate.value)}; "
    return GateResult(Outcome.SKIPPED, f"slice {segment} of '{dataset}' has {rows} rows, fewer "
                                       f"than {minimum}: {figure}reported, not gated", props)


def _segment_key(segment: str) -> str:
    # Dots separate levels of the JUnit tree; keep them out of a segment's name.
    return segment.replace(".", "_")


def gates(state: GateState) -> Iterator[GateSpec]:
    """Per golden dataset and metric: the floor, non-inferiority against the profile's
    baseline (where the gate has a ``max_drop``), and each slice's floor and gap."""
    config = state.config
    compare = state.profile.baseline != "none"
    minimums = (config.gates.min_positives, config.gates.min_negatives)
    for spec in config.golden:
        name = spec.name
        for metric, gate in metric_gates(state, name):
            def floor(metric=metric, gate=gate, name=name) -> GateResult:
                evaluation = state.evaluation(name)
                found = evaluation.counts()
                reason = shortfall(found, *minimums)
                if reason:
                    return too_little(metric, found, reason, minimums, name, "",
                                      evaluation.estimate(metric))
                return replace_counts(check_floor(metric, gate, evaluation.estimate(metric),
                                                  evaluation.rows(), name), found)

            yield GateSpec("quality", name, metric, lambda name=name: state.evaluation(name),
                           floor)
            if compare and gate.max_drop is not None:
                def versus(metric=metric, gate=gate, name=name) -> GateResult:
                    evaluation = state.compared(name)
                    found = evaluation.counts()
                    reason = shortfall(found, *minimums)
                    if reason:
                        return too_little(metric, found, reason, minimums, name, "", None)
                    return check_non_inferiority(metric, gate, evaluation.paired(metric),
                                                 evaluation.rows(), name,
                                                 evaluation.baseline_name,
                                                 config.gates.bootstrap.confidence, found)

                yield GateSpec("quality", name, f"{metric}.vs_{state.profile.baseline}",
                               lambda name=name: state.compared(name), versus)
        yield from _slice_gates(state, name)


def replace_counts(result: GateResult, found: Counts) -> GateResult:
    """A judged result with the evidence it rests on among its properties."""
    return replace(result, properties=replace(result.properties, **_evidence_props(found)))


def metric_gates(state: GateState, name: str) -> list[tuple[str, MetricGate]]:
    """Each gated metric with its gate; ``recall_per_class`` becomes one metric per class
    (``model.classes``, else the classes in the golden dataset's label column)."""
    config = state.config
    gates = config.gates.quality
    if PER_CLASS not in gates:
        return list(gates.items())
    classes = list(config.model.classes or [])
    if not classes:
        try:
            frame = state.dataset(name).frame
            classes = sorted_classes(frame[config.model.label_column])
        except (HarnessError, KeyError):
            classes = []  # the dataset's own gates report why it cannot be read
    return [(metric, gates[PER_CLASS] if metric not in gates else gates[metric])
            for metric in expand(list(gates), classes)]


def _slice_gates(state: GateState, name: str) -> Iterator[GateSpec]:
    config = state.config
    sliced = {m: g for m, g in metric_gates(state, name)
              if g.slice_min is not None or g.slice_max is not None or g.max_slice_gap is not None}
    if not sliced or not config.slices:
        return
    try:
        masks = segments(state.dataset(name).frame, config)
    except HarnessError:
        return  # the dataset's own gates report why it cannot be read
    minimum = config.gates.min_slice_rows
    minimums = (config.gates.min_positives, config.gates.min_negatives)
    for segment, mask in masks.items():
        rows = int(mask.sum())
        for metric, gate in sliced.items():
            criteria = ([metric] if gate.slice_min is not None or gate.slice_max is not None
                        else [])
            criteria += [f"{metric}.gap"] if gate.max_slice_gap is not None else []
            for criterion in criteria:
                def judge(metric=metric, gate=gate, segment=segment, rows=rows,
                          criterion=criterion) -> GateResult:
                    evaluation = state.evaluation(name)
                    estimate = evaluation.estimate(metric, segment) if rows else None
                    if rows < minimum:
                        return too_small(metric, rows, minimum, name, segment, estimate)
                    found = evaluation.counts(segment)
                    reason = shortfall(found, *minimums)
                    if reason:
                        return too_little(metric, found, reason, minimums, name, segment,
                                          estimate)
                    assert estimate is not None
                    if criterion.endswith(".gap"):
                        return replace_counts(check_slice_gap(
                            metric, gate, estimate, evaluation.estimate(metric), rows, name,
                            segment), found)
                    return replace_counts(check_floor(metric, gate, estimate, rows, name,
                                                      segment), found)

                yield GateSpec("quality", name, criterion, lambda: state.evaluation(name), judge,
                               segment=_segment_key(segment))
