"""deepchecks' side of the harness's deepchecks check, run in deepchecks' own virtualenv
(``harness/gates/deepchecks_env.py``), never imported by the harness process:

    python runner.py list OUT.json
    python runner.py run REQUEST.json RESULT.json

``list`` writes the checks of deepchecks' default tabular suites, in suite order. ``run``
reads the datasets and the model's predictions the harness wrote (``exchange.py``), runs
each requested suite on them with the checks the harness kept, saves deepchecks' own HTML
and writes, per check, its conditions with their categories and details, or the exception
it could not run with. A suite that cannot run at all is recorded with its error; anything
else that goes wrong is a crash: a traceback and a non-zero exit, which the harness reports
with the end of this process's output.

deepchecks is given the model's predictions and class probabilities, not the model (the
model needs the harness's environment). The checks that need the model object say so:
feature importance and Unused Features, Boosting Overfit (deepchecks' own reasons); Model
Inference Time would time a lookup of the given predictions, so it is not run (below).

Standard library at module level (and ``exchange``, beside this file); deepchecks, numpy
and pandas are imported by the commands.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from exchange import FORMAT, read_frame, read_json, read_predictions, write_json

SUITES = ("data_integrity", "train_test_validation", "model_evaluation")
# Checks whose figure would be about deepchecks' stand-in for the model, not the model.
NEEDS_THE_MODEL = {
    "ModelInferenceTime": "it times the model's predict, and deepchecks is given the model's "
    "predictions, not the model (which runs in the harness's environment)",
}


def _deepchecks() -> Any:
    # Set before the import: deepchecks asks its server for the latest version otherwise.
    os.environ.setdefault("DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY", "True")
    os.environ.setdefault("DISABLE_LATEST_VERSION_CHECK", "True")
    warnings.simplefilter("ignore")
    import deepchecks
    import deepchecks.tabular
    import deepchecks.tabular.suites

    return deepchecks


def list_checks(out: Path) -> None:
    deepchecks = _deepchecks()
    suites = {name: [{"index": index, "name": check.name()}
                     for index, check in getattr(deepchecks.tabular.suites, name)().checks.items()]
              for name in SUITES}
    write_json(out, {"format": FORMAT, "deepchecks": deepchecks.__version__, "suites": suites})


def _dataset(deepchecks: Any, folder: Path, spec: dict[str, Any]) -> Any:
    frame = read_frame(folder / spec["folder"])
    label = spec["label"] if spec["label"] in frame.columns else None
    return deepchecks.tabular.Dataset(
        frame, label=label, cat_features=[c for c in spec["cat_features"] if c in frame.columns],
        label_type=spec["label_type"] if label is not None else None)


def _outcome(index: int, check: Any, result: Any | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": index, "name": check.name(), "found": result is not None,
                             "exception": None, "conditions": []}
    if result is None:
        return entry
    exception = getattr(result, "exception", None)
    if exception is not None:
        entry["exception"] = {"type": type(exception).__name__, "message": str(exception)}
        return entry
    entry["conditions"] = [{"name": c.name, "category": c.category.name, "details": str(c.details)}
                           for c in (result.conditions_results or [])]
    return entry


def _run_suite(deepchecks: Any, folder: Path, request: dict[str, Any],
               run: dict[str, Any]) -> dict[str, Any]:
    suite = getattr(deepchecks.tabular.suites, run["suite"])()
    kept = set(run["keep"])
    not_run: dict[int, tuple[Any, str]] = {}
    for index, check in list(suite.checks.items()):
        if index not in kept:
            suite.remove(index)
        elif type(check).__name__ in NEEDS_THE_MODEL:
            not_run[index] = (check, NEEDS_THE_MODEL[type(check).__name__])
            suite.remove(index)
    datasets = request["datasets"]
    kwargs: dict[str, Any] = {"train_dataset": _dataset(deepchecks, folder,
                                                        datasets[run["train"]])}
    if run["test"] is not None:
        kwargs["test_dataset"] = _dataset(deepchecks, folder, datasets[run["test"]])
    if run["predictions"] is not None:  # folders by role: "train", "test"
        for role, predictions in run["predictions"].items():
            predicted, proba = read_predictions(folder / predictions)
            kwargs[f"y_pred_{role}"], kwargs[f"y_proba_{role}"] = predicted, proba
        kwargs["model_classes"] = run["model_classes"]
    started = time.monotonic()
    result = suite.run(**kwargs)
    seconds = time.monotonic() - started
    if run["html"]:
        # connected=False puts deepchecks' scripts in the file: nothing loads from a CDN.
        result.save_as_html(run["html"], as_widget=False, connected=False)
    checks = [_outcome(index, check, next((r for r in result.results if r.check is check),
                                          None))
              for index, check in suite.checks.items()]
    for index, (check, reason) in not_run.items():
        checks.append({"index": index, "name": check.name(), "found": True, "conditions": [],
                       "exception": {"type": "NotRunWithoutTheModel", "message": reason}})
    return {"id": run["id"], "error": None, "seconds": round(seconds, 3),
            "checks": sorted(checks, key=lambda c: c["index"])}


def run_suites(request_path: Path, result_path: Path) -> None:
    deepchecks = _deepchecks()
    request = read_json(request_path)
    if request.get("format") != FORMAT:
        raise SystemExit(f"runner: request format {request.get('format')!r}, expected {FORMAT}")
    folder = request_path.parent
    runs = []
    for run in request["runs"]:
        try:
            runs.append(_run_suite(deepchecks, folder, request, run))
        except deepchecks.core.errors.DeepchecksBaseError as exc:
            # deepchecks refusing the data (e.g. train and test with other features) is
            # about this suite on this data: the others still run.
            traceback.print_exc()
            runs.append({"id": run["id"], "error": f"{type(exc).__name__}: {exc}",
                         "checks": []})
    write_json(result_path, {"format": FORMAT, "deepchecks": deepchecks.__version__,
                             "runs": runs})


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "list":
        list_checks(Path(argv[1]))
    elif len(argv) == 3 and argv[0] == "run":
        run_suites(Path(argv[1]), Path(argv[2]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
