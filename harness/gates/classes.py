"""A multiclass model's label column holds only classes its passport has seen: a golden
row of a class the blessed model never scored is a schema failure, named with the rows."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from harness.config import HarnessConfig
from harness.data import passport
from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.gates.result import GateResult
from harness.kinds.labels import unknown_classes

if TYPE_CHECKING:
    from harness.gates.state import GateState

CRITERION = "known_classes"


def known_classes(config: HarnessConfig, dataset: str) -> tuple[list[Any], str] | None:
    """The classes the newest passport of ``dataset`` scored (whatever golden version it
    was measured on), else ``model.classes``; with where they come from."""
    blessed = passport.history(config, dataset)
    if blessed and blessed[-1].classes:
        return list(blessed[-1].classes), blessed[-1].label
    if config.model.classes:
        return list(config.model.classes), "model.classes"
    return None


def check_known_classes(frame: pd.DataFrame, column: str, known: tuple[list[Any], str] | None,
                        dataset: str) -> GateResult:
    props = GateProperties(column=column, rule=CRITERION, dataset=dataset)
    if known is None:
        return GateResult(Outcome.SKIPPED,
                          f"no passport of '{dataset}' yet to know its classes from", props)
    if column not in frame.columns:
        return GateResult(Outcome.SKIPPED, f"column '{column}' is missing (see {column}.present)",
                          props)
    classes, source = known
    unknown = unknown_classes(frame[column], classes)
    props = replace(props, value=Figure(str(len(unknown))), threshold="0",
                    allowed=",".join(map(str, classes)))
    if unknown:
        rows = frame[column].astype(str).isin(unknown)
        lines = ", ".join(f"line {i + 2}" for i in frame.index[rows.to_numpy()][:3])
        return GateResult(
            Outcome.FAILED,
            f"column '{column}' in '{dataset}' holds {int(rows.sum())} rows of classes "
            f"{source} has never seen: {', '.join(unknown[:3])} ({lines}); known classes: "
            f"{', '.join(map(str, classes))}. Retrain and bless a passport that knows them",
            props,
        )
    return GateResult(Outcome.PASSED, f"column '{column}' holds only classes {source} knows",
                      props)


def judge(state: GateState, dataset: str) -> GateResult:
    config = state.config
    return check_known_classes(state.dataset(dataset).frame, config.model.label_column,
                               known_classes(config, dataset), dataset)
