"""Schema rules: a column is present, has its dtype, its nulls, and allowed values or range."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api import types

from harness.config import ColumnRule
from harness.gates import classes
from harness.gates.context import RunContext
from harness.gates.inputs import Problem
from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.gates.result import GateResult, GateSpec
from harness.text import clip, clip_repr

if TYPE_CHECKING:
    from harness.gates.state import GateState

RULE_KINDS = ("present", "dtype", "nullable", "allowed", "range")
_EXAMPLES = 3


READS_DATA = True
CALLS_MODEL = False


def problems(context: RunContext) -> list[Problem]:
    """Nothing of its own: the datasets are checked for every check that reads them."""
    return []


def rule_kinds(rule: ColumnRule) -> Iterator[str]:
    """The criteria one column rule expands to; each becomes its own testcase."""
    yield "present"
    yield "dtype"
    if not rule.nullable:
        yield "nullable"
    if rule.allowed is not None:
        yield "allowed"
    if rule.min is not None or rule.max is not None:
        yield "range"


def _csv_lines(frame: pd.DataFrame, mask: pd.Series) -> str:
    # Line 1 of a CSV file is its header, so data row i is on line i + 2.
    rows = frame.index[mask.to_numpy()][:_EXAMPLES]
    return ", ".join(f"line {i + 2}" for i in rows)


def _dtype_ok(series: pd.Series, dtype: str) -> bool:
    if dtype == "boolean":
        return types.is_bool_dtype(series)
    if dtype == "string":
        values = series.dropna()
        return (types.is_object_dtype(series) or types.is_string_dtype(series)) and bool(
            values.map(lambda v: isinstance(v, str)).all()
        )
    if types.is_bool_dtype(series) or not types.is_numeric_dtype(series):
        return False
    if dtype == "integer" and not types.is_integer_dtype(series):
        # CSV readers load an integer column with missing values as floats.
        values = series.dropna().to_numpy(dtype=float)
        return bool(np.all(np.isfinite(values) & (values == np.round(values))))
    return True


def check_rule(
    frame: pd.DataFrame, column: str, check: str, rule: ColumnRule, dataset: str
) -> GateResult:
    """Judge one criterion of a column rule against the named dataset."""
    props = GateProperties(column=column, rule=check, dataset=dataset)
    where = f"'{dataset}'"
    if column not in frame.columns:
        if check == "present":
            return GateResult(Outcome.FAILED, f"column '{column}' is missing from {where}", props)
        return GateResult(Outcome.SKIPPED, f"column '{column}' is missing (see {column}.present)",
                          props)
    series = frame[column]
    if check == "present":
        return GateResult(Outcome.PASSED, f"column '{column}' is present", props)
    if check == "dtype":
        ok = _dtype_ok(series, rule.dtype)
        props = replace(props, expected=rule.dtype, actual=str(series.dtype))
        message = f"column '{column}' in {where} has dtype {series.dtype}, expected {rule.dtype}"
        if not ok and rule.dtype != "string" and not types.is_numeric_dtype(series):
            bad = pd.to_numeric(series, errors="coerce").isna() & series.notna()
            message += f" (non-numeric values such as {clip_repr(series[bad].iloc[0])} at "
            message += f"{_csv_lines(frame, bad)})"
        return GateResult(Outcome.of(ok), message, props)
    if check == "nullable":
        nulls = series.isna()
        count = int(nulls.sum())
        props = replace(props, value=Figure(str(count)), threshold="0")
        if count:
            return GateResult(
                Outcome.FAILED,
                f"column '{column}' in {where} has {count} missing values "
                f"({_csv_lines(frame, nulls)}), but is not nullable",
                props,
            )
        return GateResult(Outcome.PASSED, f"column '{column}' has no missing values", props)
    if check == "allowed":
        assert rule.allowed is not None
        allowed = set(rule.allowed)
        outside = series.notna() & ~series.isin(allowed)
        count = int(outside.sum())
        props = replace(props, value=Figure(str(count)), threshold="0",
                        allowed=",".join(map(str, allowed)))
        if count:
            examples = sorted({clip(v) for v in series[outside].iloc[:_EXAMPLES]})
            return GateResult(
                Outcome.FAILED,
                f"column '{column}' in {where} has {count} values outside the allowed set, "
                f"e.g. {', '.join(examples)} ({_csv_lines(frame, outside)})",
                props,
            )
        return GateResult(Outcome.PASSED, f"column '{column}' holds only allowed values", props)
    if check == "range":
        bounds = f"[{rule.min if rule.min is not None else '-inf'}, "
        bounds += f"{rule.max if rule.max is not None else 'inf'}]"
        props = replace(props, threshold=bounds)
        if not types.is_numeric_dtype(series) or types.is_bool_dtype(series):
            return GateResult(Outcome.SKIPPED,
                              f"column '{column}' is not numeric (see {column}.dtype)", props)
        low = series < rule.min if rule.min is not None else pd.Series(False, index=series.index)
        high = series > rule.max if rule.max is not None else pd.Series(False, index=series.index)
        outside = low | high
        count = int(outside.sum())
        props = replace(props, value=Figure(str(count)), min_seen=Figure(str(series.min())),
                        max_seen=Figure(str(series.max())))
        if count:
            examples = ", ".join(clip(v) for v in series[outside].iloc[:_EXAMPLES])
            return GateResult(
                Outcome.FAILED,
                f"column '{column}' in {where} has {count} values outside {bounds}, "
                f"e.g. {examples} ({_csv_lines(frame, outside)})",
                props,
            )
        return GateResult(Outcome.PASSED, f"column '{column}' is within {bounds}", props)
    raise ValueError(f"unknown schema rule check {check!r}")


def gates(state: GateState) -> Iterator[GateSpec]:
    """One criterion per column rule and dataset, golden and training data alike."""
    config = state.config
    for spec in config.datasets():
        for column, rule in config.data_schema.columns.items():
            for check in rule_kinds(rule):
                def judge(name=spec.name, column=column, check=check, rule=rule) -> GateResult:
                    return check_rule(state.dataset(name).frame, column, check, rule, name)

                yield GateSpec("schema", spec.name, f"{column}.{check}",
                               lambda name=spec.name: state.dataset(name), judge)
    if config.model.model_kind.has_classes:
        for spec in config.golden:
            yield GateSpec("schema", spec.name, f"{config.model.label_column}.{classes.CRITERION}",
                           lambda name=spec.name: state.dataset(name),
                           lambda name=spec.name: classes.judge(state, name))
