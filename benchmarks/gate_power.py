"""Gate power: how often the quality gate fails a model that is as good as the passport's
(a false alarm) and how often it fails one that is worse by a known amount (a catch), with
bootstrap and analytic intervals side by side.

    .venv/bin/python benchmarks/gate_power.py [--models 8] [--fraction 0.06]

Trains ``--models`` retrains of the reference credit model that differ only by their seed
(1..N); ``--models`` equally good but genuinely different ones (gradient boosting with
other hyperparameters: shallower and longer, deeper and shorter, a faster learning rate,
a smaller subsample; seeds 101..), which should never fail but may be inconclusive; and
``--models`` more (seeds N+1..2N) that are then degraded: on a share
``--fraction`` of rows, picked at random, their scores are shuffled among themselves, so
those rows carry no signal of their own. The known amount is that share; the drop in
ROC AUC it causes on the golden set is measured and printed beside each verdict (about
0.02 at the default 6%, the size of the reference project's ``max_drop``). Each model goes through the real gate, the quality check of
the reference project's ``pr`` profile on its golden set against its committed passport,
once with each interval method. A retrain must pass; a degraded model should fail. The
ROC AUC comparison's three outcomes (pass / inconclusive / fail) are counted per group.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.config import load_config
from harness.data import passport
from harness.gates.checks import quality
from harness.gates.context import RunContext
from harness.gates.outcome import Outcome as GateOutcome
from harness.gates.state import GateState

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit"

# The degraded model, an entry point like any team's: the retrain, with the scores of a
# random share of rows shuffled among themselves (the same rows for the same frame).
_DEGRADED = '''
import numpy as np

from credit_model.model import load_model

FRACTION = {fraction!r}


class Degraded:
    def __init__(self, model):
        self.model = model

    def predict_proba(self, frame):
        scores = np.array(self.model.predict_proba(frame), dtype=float)
        rng = np.random.default_rng({seed} + len(frame))
        rows = np.flatnonzero(rng.random(len(scores)) < FRACTION)
        scores[rows] = scores[rng.permutation(rows)]
        return scores


def load(artifact):
    return Degraded(load_model(artifact))
'''


# Equally good, genuinely different: the same algorithm with other hyperparameters.
VARIANTS: tuple[dict[str, float], ...] = (
    {"max_depth": 2, "n_estimators": 400},
    {"max_depth": 4, "n_estimators": 120},
    {"learning_rate": 0.1, "n_estimators": 100},
    {"subsample": 0.6, "n_estimators": 250},
)


@dataclass(frozen=True)
class Outcome:
    passed: bool
    versus_failed: list[str]
    roc_auc: float
    seconds: float
    auc_decision: str = ""  # the ROC AUC comparison: pass, inconclusive or fail


def _project(folder: Path) -> Path:
    for name in ("golden", "credit_model"):
        (folder / name).symlink_to(EXAMPLE / name, target_is_directory=True)
    return folder


def _config(project: Path, artifact: Path, entrypoint: str, method: str, name: str) -> Path:
    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    data["model"].update(artifact=str(artifact), entrypoint=entrypoint)
    data["training"] = None
    data["gates"]["intervals"] = {"method": method}
    data["profiles"] = {"pr": {"checks": ["quality"], "baseline": "passport"}}
    data["history"] = {"url": f"sqlite:///{project / 'history.db'}"}
    path = project / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _gate(config_path: Path) -> Outcome:
    """Every quality criterion of the ``pr`` profile, judged as the pytest plugin judges it."""
    config = load_config(config_path)
    state = GateState(RunContext.resolve(config, "pr"))
    started = time.perf_counter()
    passed, versus_failed, auc, decision = True, [], float("nan"), ""
    for spec in quality.gates(state):
        spec.prepare()
        result = spec.judge()
        if result.outcome is GateOutcome.SKIPPED:
            continue
        if spec.classname == "quality.credit-v1" and spec.criterion == "roc_auc":
            assert result.properties.value is not None
            auc = float(result.properties.value)
        if spec.classname == "quality.credit-v1" and spec.criterion == "roc_auc.vs_passport":
            decision = result.properties.decision or ""
        if not result.passed:
            passed = False
            if ".vs_" in spec.criterion:
                versus_failed.append(spec.criterion.split(".")[0])
    return Outcome(passed, versus_failed, auc, time.perf_counter() - started, decision)


def _train(seeds: range, folder: Path, variants: bool = False) -> Iterator[Path]:
    from credit_model.train import train

    for i, seed in enumerate(seeds):
        params = VARIANTS[i % len(VARIANTS)] if variants else None
        yield train(EXAMPLE / "fixtures/credit/train.csv", folder / f"seed-{seed}", seed=seed,
                    params=params)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=8, help="retrains, and degraded models")
    parser.add_argument("--fraction", type=float, default=0.06,
                        help="share of rows whose scores a degraded model shuffles")
    args = parser.parse_args()
    sys.path.insert(0, str(EXAMPLE))
    methods = ("bootstrap", "analytic")
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(Path(tmp))
        n = args.models
        started = time.perf_counter()
        retrains = list(_train(range(1, n + 1), project / "models"))
        different = list(_train(range(101, 101 + n), project / "models", variants=True))
        degraded = list(_train(range(n + 1, 2 * n + 1), project / "models"))
        print(f"trained {3 * n} models in {time.perf_counter() - started:.0f} s")
        rows: list[tuple[str, int, dict[str, Outcome]]] = []
        first_seed = {"retrain": 1, "different": 101, "degraded": n + 1}
        for kind, artifacts in (("retrain", retrains), ("different", different),
                                ("degraded", degraded)):
            for i, artifact in enumerate(artifacts):
                seed = first_seed[kind] + i
                entrypoint = "credit_model.model:load_model"
                if kind == "degraded":
                    module = f"degraded_{seed}"
                    (project / f"{module}.py").write_text(
                        _DEGRADED.format(fraction=args.fraction, seed=seed))
                    entrypoint = f"{module}:load"
                outcomes = {m: _gate(_config(project, artifact, entrypoint, m,
                                             f"{kind}-{seed}-{m}")) for m in methods}
                rows.append((kind, seed, outcomes))
        shutil.rmtree(project / "models", ignore_errors=True)

    config = load_config(EXAMPLE / "harness.yaml")
    blessed = passport.current(config, config.golden[0])
    assert blessed is not None, "the reference project has a passport for its golden set"
    passport_auc = blessed.metrics["overall"]["roc_auc"]["value"]
    print(f"\nreference golden set credit-v1 (1,114 rows) vs its {blessed.label} (ROC AUC "
          f"{passport_auc:.4f}); degraded: "
          f"{args.fraction:.0%} of rows shuffled")
    print(f"  {'model':<14}{'roc_auc':>8}{'drop':>8}  " +
          "".join(f"{m + ' verdict':<50}" for m in methods))
    for kind, seed, outcomes in rows:
        first = outcomes[methods[0]]
        cells = "".join(
            f"{('PASS' if o.passed else 'FAIL') + ' ' + ','.join(o.versus_failed):<29}"
            f"{o.auc_decision:<13}"
            f"{o.seconds:>5.1f}s " for o in (outcomes[m] for m in methods))
        print(f"  {kind[:4] + ' ' + str(seed):<14}{first.roc_auc:>8.4f}"
              f"{passport_auc - first.roc_auc:>8.4f}  {cells}")
    print("\n  (FAIL lists the metrics whose non-inferiority failed; a FAIL with none failed a "
          "floor or a slice, which does not depend on the interval method)")
    print(f"  {'method':<12}{'false alarms':>14}{'catches':>10}{'catches by vs_passport':>24}")
    for m in methods:
        alarms = sum(not o[m].passed for k, _, o in rows if k == "retrain")
        catches = sum(not o[m].passed for k, _, o in rows if k == "degraded")
        versus = sum(bool(o[m].versus_failed) for k, _, o in rows if k == "degraded")
        print(f"  {m:<12}{alarms:>10} / {n:<3}{catches:>6} / {n:<3}{versus:>16} / {n}")
    print("\n  the roc_auc.vs_passport testcase: pass / inconclusive / fail per group")
    print(f"  {'group':<12}" + "".join(f"{m:>24}" for m in methods))
    for group in ("retrain", "different", "degraded"):
        cells = []
        for m in methods:
            found = [o[m].auc_decision for k, _, o in rows if k == group]
            cells.append(" / ".join(str(found.count(d)) for d in ("pass", "inconclusive",
                                                                    "fail")))
        print(f"  {group:<12}" + "".join(f"{c:>24}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
