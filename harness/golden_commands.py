"""What ``harness golden`` and ``harness history`` do, as functions the CLI calls."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from harness.config import HarnessConfig
from harness.data import golden, passport
from harness.digests import sha256_file
from harness.errors import GoldenIntegrityError
from harness.gates import passports
from harness.gates.recorded import passport_digests
from harness.history import HistoryStore
from harness.model.adapters import open_model
from harness.run.recording import model_identity
from harness.text import clip


def golden_root(config: HarnessConfig) -> Path:
    """The folder golden versions live in: ``golden_root``, beside the config by default."""
    return config.resolve(config.golden_root)


def verify_all(config: HarnessConfig) -> tuple[list[str], list[str]]:
    """Verify every golden version under the golden root and every one the config uses,
    then the scores of the current passports; (lines for those that hold, messages for
    those that do not)."""
    good, bad = [], []
    named = [(i, config.resolve(s.path)) for i, s in enumerate(config.golden)]
    bad += [f"{path}: golden[{i}].path in {config.source} names a folder; name a CSV file "
            "inside a golden version folder" for i, path in named if path.is_dir()]
    versions = sorted(set(golden.find_versions(golden_root(config)))
                      | {path.parent for _, path in named if not path.is_dir()})
    for version in versions:
        try:
            manifest = golden.verify(version)
        except GoldenIntegrityError as exc:
            bad.append(str(exc))
            continue
        good.append(f"ok  {version}  {len(manifest.files)} file(s), {manifest.rows} rows, "
                    f"manifest sha256 {golden.manifest_digest(version)[:12]}")
    if not bad:
        try:
            good += passport.verify_current(config, passport_digests(config))
        except GoldenIntegrityError as exc:
            bad.append(str(exc))
    return good, bad


def _schema_check(config: HarnessConfig) -> Callable[[Path, pd.DataFrame], None]:
    """Refuse a golden file ``check`` would refuse or fail on its data alone: a column the
    schema names missing, a numeric column holding text, a label the config does not know."""
    from harness.gates.checks.schema import check_rule
    from harness.gates.outcome import Outcome
    from harness.kinds.labels import label_problem, unknown_classes

    def check(path: Path, frame: pd.DataFrame) -> None:
        missing = [c for c in config.data_schema.columns if c not in frame.columns]
        if missing:
            raise GoldenIntegrityError(
                f"{path}: lacks the column(s) {', '.join(missing)} that schema.columns in "
                f"{config.source} names; golden data must hold every column the model is "
                "judged on, the label included")
        label = config.model.label_column
        rules = [(column, "dtype", rule) for column, rule in config.data_schema.columns.items()
                 if rule.dtype in ("integer", "float", "number")]
        if label in config.data_schema.columns and config.data_schema.columns[label].allowed:
            rules.append((label, "allowed", config.data_schema.columns[label]))
        for column, criterion, rule in rules:
            result = check_rule(frame, column, criterion, rule, path.name)
            if result.outcome is Outcome.FAILED:
                raise GoldenIntegrityError(
                    f"{path}: {clip(result.message, 400)}, as schema.columns.{column} in "
                    f"{config.source} says; fix the data before recording it", path=path)
        kind = config.model.model_kind
        problem = label_problem(frame[label], config) if kind.needs_positive_label else None
        if kind.has_classes and config.model.classes:
            unknown = unknown_classes(frame[label], list(config.model.classes))
            if unknown:
                problem = (f"label column '{label}' holds {clip(', '.join(unknown[:5]), 200)}, "
                           f"none of model.classes")
        if problem is not None:
            raise GoldenIntegrityError(f"{path}: {clip(problem, 400)}", path=path)
    return check


def add(config: HarnessConfig, dataset: str, version: str, files: list[Path],
        source: str | None) -> list[str]:
    """Record a golden version under the golden root; say how the config refers to it."""
    target = golden.add_version(golden_root(config), dataset, version, files,
                                source or ", ".join(f.name for f in files),
                                check=_schema_check(config))
    lines = [f"recorded golden version {target}"]
    used = {config.resolve(s.path).parent.resolve() for s in config.golden}
    if target.resolve() not in used:
        entries = "\n".join(
            f"  - name: {dataset}-{version}\n"
            f"    path: {Path(os.path.relpath(target / f.name, config.root)).as_posix()}"
            for f in files)
        lines.append(f"to judge models on it, list it under 'golden:' in {config.source}:\n"
                     f"golden:\n{entries}")
    return lines


def bless(config: HarnessConfig, by: str, reason: str, production: bool = False) -> list[str]:
    """Record a new passport per golden dataset for the candidate (or production) model,
    in the passport files and in history."""
    access = config.production_access() if production else config.model
    identity = {
        "name": config.model.name,
        "sha256": ("production " + (access.url or access.entrypoint or "")) if production
        else model_identity(config),
    }
    measured = passports.measure(config, open_model(config, access), identity, by, reason)
    store = HistoryStore(config.history_url())  # reachable before anything is written
    lines = []
    try:
        written = passports.publish(measured)
        try:
            store.record_passports([_record(path, blessed, identity["sha256"][:64])
                                    for path, blessed in written])
        except BaseException:
            for path, blessed in written:  # unrecorded passports would be believed nowhere
                path.unlink(missing_ok=True)
                path.with_name(str(blessed.scores_file)).unlink(missing_ok=True)
            raise
    finally:
        store.close()
    for path, blessed in written:
        overall = blessed.metrics["overall"]
        figures = ", ".join(f"{m} {v['value']:.4f}" for m, v in overall.items()
                            if m in config.gates.quality)
        lines.append(f"{path}: {blessed.label} of '{blessed.dataset}' by {by}: {figures}")
    return lines


def _record(path: Path, blessed: passport.Passport, model_sha256: str) -> dict[str, Any]:
    """``HistoryStore.record_passport``'s arguments for a published passport."""
    return {"dataset": blessed.dataset, "number": blessed.number,
            "golden_manifest_sha256": blessed.golden_manifest_sha256,
            "model_sha256": model_sha256, "blessed_by": blessed.blessed_by,
            "reason": blessed.reason, "file_sha256": sha256_file(path),
            "metrics": blessed.metrics, "created_at": blessed.created_at}


def history_table(store: HistoryStore, profile: str | None, limit: int) -> str:
    rows = store.runs(profile, limit)
    if not rows:
        return "no runs recorded yet"
    lines = [(f"{'run':>5}  {'when (UTC)':<19}  {'profile':<10} {'verdict':<7} "
             f"{'tests':>5} {'fail':>4} {'err':>4}  {'seconds':>7}  candidate")]
    for r in rows:
        lines.append(f"{r.id:>5}  {r.created_at[:19].replace('T', ' '):<19}  "
                     f"{r.profile:<10} {r.verdict:<7} {r.tests:>5} {r.failures:>4} "
                     f"{r.errors:>4}  {r.duration_s:>7.1f}  {r.candidate_id}")
    return "\n".join(lines)


def compare_runs(store: HistoryStore, first: int, second: int) -> str:
    """Metric by metric, what changed from run ``first`` to run ``second``."""
    a, b = store.run(first), store.run(second)
    before = {m.gate: m for m in a.metrics or []}
    lines = [(f"run {first} ({a.profile}, {a.verdict}) -> run {second} "
             f"({b.profile}, {b.verdict})")]
    if a.golden_sha256 != b.golden_sha256:
        lines.append("  note: the golden data differ between these runs")
    for metric in b.metrics or []:
        old = before.get(metric.gate)
        if old is None or old.value is None or metric.value is None:
            continue
        change = metric.value - old.value
        interval = (f" [{metric.ci_low:.4f}, {metric.ci_high:.4f}]"
                    if metric.ci_low is not None else "")
        lines.append(f"  {metric.gate:<45} {old.value:.4f} -> {metric.value:.4f}"
                     f"{interval}  ({change:+.4f}) {metric.status}")
    return "\n".join(lines)


def passports_table(store: HistoryStore) -> str:
    rows = store.passports()
    if not rows:
        return "no passports recorded yet"
    return "\n".join(
        f"{r.dataset} #{r.number}  {r.created_at[:19]}  by {r.blessed_by}: {r.reason}  (roc_auc "
        f"{r.metrics.get('overall', {}).get('roc_auc', {}).get('value', float('nan')):.4f})"
        for r in rows
    )


def plan(config: HarnessConfig, margin: float | None = None,
         metrics: list[str] | None = None) -> list[str]:
    """How many golden rows (and positives) each comparative gate needs to decide a drop of
    ``margin`` (each gate's ``max_drop`` when None): the candidate against each golden set's
    passport, from the paired standard error, scaled as 1/sqrt(rows) (harness/gates/decision.py)."""
    from harness.config import ProfileSpec
    from harness.errors import ConfigError
    from harness.gates import decision
    from harness.gates.context import RunContext
    from harness.gates.state import GateState

    gated = {m: g for m, g in config.gates.quality.items() if g.max_drop is not None}
    names = metrics or list(gated)
    unknown = [m for m in names if m not in config.gates.quality]
    if unknown or not names:
        raise ConfigError(
            f"no comparative gate to plan for{': ' + ', '.join(unknown) if unknown else ''}; "
            f"give --metric from gates.quality ({', '.join(config.gates.quality) or 'none'}) "
            "or a max_drop to one of them", path=config.source)
    if margin is None and any(gated.get(m) is None for m in names):
        raise ConfigError("give --margin: a metric named has no max_drop", path=config.source)
    if margin is not None and margin <= 0:
        raise ConfigError(f"--margin must be above 0, not {margin}", path=config.source)
    state = GateState(RunContext(config, "plan", ProfileSpec(checks=["quality"],
                                                             baseline="passport")))
    confidence = config.gates.bootstrap.confidence
    lines = []
    for spec in config.golden:
        evaluation = state.compared(spec.name)
        found = evaluation.counts()
        lines.append(f"{spec.name} ({found}), candidate vs {evaluation.baseline_name}:")
        for name in names:
            wanted = margin if margin is not None else gated[name].max_drop
            assert wanted is not None
            diff = evaluation.paired(name).difference
            se = decision.standard_error(diff.interval.low, diff.interval.high, confidence)
            detectable = decision.mde(se, confidence)
            needed = decision.needed(found.rows, found.positives, detectable, wanted)
            head = (f"  {name}: paired SE {se:.4f}, detects a drop of {detectable:.4f} "
                    f"(at {confidence:.0%}, power {decision.POWER:.0%})")
            if needed is None:
                lines.append(f"{head}; the two models agree on every row, so there is no "
                             "paired variance to plan from")
                continue
            rows, positives = needed.rows, needed.positives
            if positives is not None:  # and never fewer than the evidence minimums
                positives = max(positives, config.gates.min_positives)
            count = f"{rows} rows" + (f" ({positives} positives)" if positives is not None
                                      else "")
            verdict = ("enough" if rows <= found.rows
                       else f"{rows - found.rows} more than it has")
            lines.append(f"{head}; to decide a drop of {wanted:.4f} it needs about {count}: "
                         f"{verdict}")
    return lines
