"""``harness init``: scaffold a team's project from its data in an empty folder.

It writes ``harness.yaml`` (schema inferred from the data, starter gates, slices, the
``pr``, ``nightly`` and ``release`` profiles), splits the data into training rows
(``data/train.csv``) and a stratified golden set recorded with ``golden add``, and never
overwrites a file: everything it would write is checked first.
"""

from __future__ import annotations

import getpass
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from sklearn.model_selection import train_test_split

from harness.config import load_config
from harness.data import golden
from harness.data.schema_inference import infer_columns
from harness.errors import ConfigError, DatasetError
from harness.kinds import Kind, kind_of, metric
from harness.kinds.inference import infer_kind
from harness.text import clip

CONFIG_NAME = "harness.yaml"
TRAIN_FILE = Path("data/train.csv")
MAX_SLICES = 2


@dataclass(frozen=True)
class InitRequest:
    """What ``harness init`` is told about the team's project."""

    data: Path
    label: str
    positive: str | None
    entrypoint: str
    artifact: Path
    folder: Path = Path(".")
    name: str | None = None
    dataset: str | None = None
    golden_fraction: float = 0.25
    seed: int = 0
    managers: list[str] = field(default_factory=list)
    ports: tuple[int, int] = (8101, 8102)
    build: list[str] | None = None  # the team's command that writes the artifact


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")
    return slug or "model"


def _read(request: InitRequest) -> tuple[pd.DataFrame, Kind]:
    """The data and the model kind its label column implies."""
    try:
        frame = pd.read_csv(request.data)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{request.data}: cannot read it as CSV ({clip(exc)})") from None
    if request.label not in frame.columns:
        raise DatasetError(f"{request.data}: no column '{request.label}' for --label "
                           f"(columns: {clip(', '.join(map(str, frame.columns)))})")
    labels = frame[request.label]
    if labels.isna().any():
        raise DatasetError(f"{request.data}: column '{request.label}' has empty labels on "
                           f"{int(labels.isna().sum())} row(s); label every row first")
    kind = kind_of(infer_kind(labels))
    classes = sorted(labels.astype(str).unique())
    if kind.needs_positive_label:
        if request.positive is None:
            raise DatasetError(f"column '{request.label}' holds two values "
                               f"({clip(', '.join(classes))})"
                               ": a binary classifier; say which is positive with --positive")
        if request.positive not in classes:
            raise DatasetError(f"--positive {clip(repr(request.positive))} is not a value of "
                               f"column '{request.label}' (values: {clip(', '.join(classes))})")
    elif request.positive is not None:
        raise DatasetError(f"--positive is for binary classifiers; column '{request.label}' "
                           f"holds {labels.nunique()} values, so this is a {kind.name} model")
    if len(frame) < 40:
        raise DatasetError(f"{request.data}: {len(frame)} rows are too few to split into "
                           "training and golden data")
    return frame, kind


def _slices(frame: pd.DataFrame, schema: dict[str, dict], label: str) -> list[dict]:
    """Categorical columns with a few well-filled values: the segments worth watching."""
    found = []
    for name, rule in schema.items():
        values = rule.get("allowed")
        if name == label or values is None or not 2 <= len(values) <= 8:
            continue
        found.append({"name": _slug(str(name)).lower(), "column": name})
        if len(found) == MAX_SLICES:
            break
    return found


SLICE_GAP = 0.1


def _gap_gated(gates: dict[str, dict[str, float]],
               slices: list[dict]) -> dict[str, dict[str, float]]:
    """The slices init writes are measured: the first gate on a 0..1 metric (ROC AUC,
    accuracy, R²) bounds how far a slice may fall behind the overall figure."""
    if not slices:
        return gates
    for name, gate in gates.items():
        known = metric(name)
        if known is not None and known.higher_is_better and known.high == 1.0:
            gate["max_slice_gap"] = SLICE_GAP
            break
    return gates


def _threshold(positives: pd.Series) -> float:
    """The decision threshold from the data: the base rate, above which a calibrated
    score says the row is likelier positive than the average row (0.5 flags almost
    nothing on rare positives). Only the report's confusion matrix and the served label
    read it: init gates no threshold-based metric."""
    return round(float(positives.mean()), 3)


def _config(request: InitRequest, project: str, dataset: str, golden_path: Path,
            schema: dict[str, dict], slices: list[dict], kind: Kind,
            gates: dict[str, dict[str, float]], threshold: float | None) -> dict[str, Any]:
    golden_name = f"{dataset}-v1"
    managers = request.managers or [getpass.getuser()]
    model: dict[str, Any] = {
        "name": project, "adapter": "python", "entrypoint": request.entrypoint,
        "artifact": request.artifact.as_posix(), "label_column": request.label,
    }
    if request.build:
        model["build"] = request.build
    if kind.needs_positive_label:  # binary, the default kind: model.kind is left out
        model |= {"positive_label": request.positive, "threshold": threshold}
    else:
        model["kind"] = kind.name
    return {
        "version": 1,
        "project": project,
        "model": model,
        "golden": [{"name": golden_name, "path": golden_path.as_posix()}],
        "training": {"name": "train", "path": TRAIN_FILE.as_posix()},
        "schema": {"columns": schema},
        "gates": {
            "quality": gates,
            "bootstrap": {"resamples": 1000, "confidence": 0.95, "seed": 0},
            "min_slice_rows": 30,
            # Each schema column of the golden set against the training data (and the
            # previous golden version): PSI 0.2 is the industry convention for a shift.
            "feature_drift": {"psi_max": 0.2, "ks_max": 0.1, "p_value_min": 0.01,
                              "min_rows": 200, "bins": 10},
        },
        "slices": slices,
        "load": {
            "users": 4, "spawn_rate": 4, "run_time_s": 10, "max_requests": 2000,
            "scenario": {"dataset": golden_name},
            "slos": [
                {"endpoint": "overall", "metric": "error_ratio", "max": 0.01},
                {"endpoint": "overall", "metric": "p95_ms", "max": 2000},
                {"endpoint": "overall", "metric": "rps", "min": 5},
            ],
        },
        "profiles": {
            "pr": {"checks": ["schema", "quality"], "baseline": "passport"},
            "nightly": {"checks": ["schema", "quality", "drift", "feature_drift", "load"],
                        "baseline": "production", "environment": "staging"},
            "release": {"checks": ["schema", "contract", "quality", "load"],
                        "baseline": "passport",
                        "environment": "staging"},
        },
        "release": {"managers": managers, "evidence_max_age_hours": 24},
        "environments": {"staging": {"port": request.ports[0]},
                         "production": {"port": request.ports[1]}},
    }


class _Flow(dict):
    """A mapping written on one line: a column rule, a slice, a gate."""


class _Words(list):
    """A command written on one line: ``[python, train.py]``."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data,
                                                         flow_style=True))
_Dumper.add_representer(
    _Words, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data,
                                                           flow_style=True))


def _flow_leaves(config: dict[str, Any]) -> dict[str, Any]:
    """One line per column rule, gate, slice, SLO and profile: a config a person can read."""
    config["schema"]["columns"] = {k: _Flow(v) for k, v in config["schema"]["columns"].items()}
    config["gates"]["quality"] = {k: _Flow(v) for k, v in config["gates"]["quality"].items()}
    config["gates"]["bootstrap"] = _Flow(config["gates"]["bootstrap"])
    config["gates"]["feature_drift"] = _Flow(config["gates"]["feature_drift"])
    config["slices"] = [_Flow(s) for s in config["slices"]]
    config["load"]["slos"] = [_Flow(s) for s in config["load"]["slos"]]
    config["profiles"] = {k: _Flow(v) for k, v in config["profiles"].items()}
    if "build" in config["model"]:
        config["model"]["build"] = _Words(config["model"]["build"])
    config["environments"] = {k: _Flow(v) for k, v in config["environments"].items()}
    return config


HEADER = """\
# Written by `harness init` from {data}. Every key: docs/configuration.md in the harness.
# Next: {train_step}, then
#   harness golden bless --by YOU --reason "first model"
#   harness check --profile pr
"""


def _train_step(request: InitRequest) -> str:
    if request.build:
        return f"`harness build` (runs {' '.join(request.build)})"
    return f"train your model on {TRAIN_FILE.as_posix()} into {request.artifact.as_posix()}"


def init_project(request: InitRequest) -> list[str]:
    """Scaffold the project; returns what was written. Refuses (writing nothing) when any
    file it would write exists."""
    folder = request.folder.resolve()
    frame, kind = _read(request)
    project = _slug(request.name or folder.name)
    dataset = _slug(request.dataset or request.data.stem).lower()
    golden_version = Path("golden") / dataset / "v1"
    golden_file = golden_version / f"{dataset}.csv"
    targets = [folder / CONFIG_NAME, folder / TRAIN_FILE, folder / golden_version]
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        raise ConfigError("harness init never overwrites a file; these exist already: "
                          + ", ".join(existing) + ". Run it in an empty folder.")
    schema = infer_columns(frame, categorical={request.label} if kind.is_classifier else set())
    stratify = frame[request.label].astype(str) if kind.is_classifier else None
    train, held_out = train_test_split(frame, test_size=request.golden_fraction,
                                       random_state=request.seed, stratify=stratify)
    labels = frame[request.label]
    if kind.needs_positive_label:
        labels = (labels.astype(str) == request.positive).astype(int)
    slices = _slices(frame, schema, request.label)
    config = _config(request, project, dataset, golden_file, schema, slices, kind,
                     _gap_gated(kind.starter_gates(labels), slices),
                     _threshold(labels) if kind.needs_positive_label else None)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / golden_file.name
        held_out.to_csv(staged, index=False)
        golden.add_version(folder / "golden", dataset, "v1", [staged],
                           source=f"harness init: {request.golden_fraction:.0%} of "
                                  f"{request.data.name}"
                                  f"{'' if stratify is None else ', stratified on ' + request.label}"
                                  f", seed {request.seed}")
    (folder / TRAIN_FILE).parent.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / TRAIN_FILE, index=False)
    text = HEADER.format(data=request.data.name, train_step=_train_step(request))
    text += yaml.dump(_flow_leaves(config), Dumper=_Dumper, sort_keys=False, width=100)
    with open(folder / CONFIG_NAME, "x", encoding="utf-8") as handle:  # "x": never overwrite
        handle.write(text)
    load_config(folder / CONFIG_NAME)  # what init writes must load
    dtypes = {c: r["dtype"] for c, r in schema.items()}
    return [
        (f"wrote {folder / CONFIG_NAME}: project '{project}', {len(schema)} columns "
        f"({', '.join(f'{c}: {d}' for c, d in list(dtypes.items())[:6])}"
        f"{', ...' if len(dtypes) > 6 else ''}), schema inferred with pandera"),
        (f"model kind: {kind.name}, inferred from the {frame[request.label].nunique()} values of "
        f"'{request.label}' (set model.kind to change it)"),
        f"wrote {folder / TRAIN_FILE}: {len(train)} training rows",
        f"recorded golden version {folder / golden_version}: {len(held_out)} rows",
        (f"next: {_train_step(request)}, then `harness golden bless --by YOU --reason \"first "
        "model\"` and `harness check --profile pr`"),
    ]
