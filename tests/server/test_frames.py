"""The frame the server gives a model: typed as the harness reads data, so a record scores
the same alone, among others, and as a row of the golden data."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

from harness.config import ColumnRule, HarnessConfig, load_config
from harness.data.datasets import read_dataset
from harness.model.adapters import features
from harness.model.protocols import json_records
from harness.server.frames import records_frame
from harness.server.records import record_model
from tests.support.project import EXAMPLE


@pytest.fixture(scope="module")
def config() -> HarnessConfig:
    return load_config(EXAMPLE / "harness.yaml")


@pytest.fixture(scope="module")
def rules(config: HarnessConfig) -> dict[str, ColumnRule]:
    return {name: rule for name, rule in config.data_schema.columns.items()
            if name != config.model.label_column}


@pytest.fixture(scope="module")
def golden(config: HarnessConfig) -> pd.DataFrame:
    spec = config.golden[0]
    return features(read_dataset(spec.name, config.resolve(spec.path)).frame, config.model)


@pytest.fixture(scope="module")
def records(config: HarnessConfig, golden: pd.DataFrame) -> list[BaseModel]:
    """The golden rows as the server's validated records (JSON nulls where data is missing)."""
    record = record_model(config)
    return [record.model_validate(row) for row in json_records(golden)]


def test_a_plain_pipeline_scores_each_golden_row_alone_as_among_the_golden_rows(
        model_artifact: Path, golden: pd.DataFrame, records: list[BaseModel],
        rules: dict[str, ColumnRule]) -> None:
    # The fitted scikit-learn pipeline as it is, as a generic entry point loads it. A
    # missing category alone used to be an object column holding None, which its imputer
    # does not see as missing: another probability than the golden row's.
    pipeline = joblib.load(model_artifact / "model.joblib")
    expected = pipeline.predict_proba(golden)[:, 1]
    missing = [i for i in range(len(golden)) if golden.iloc[i].isna().any()]
    assert golden.iloc[missing][["Home", "Job"]].isna().any().all()  # categories missing too
    rows = sorted(set(missing) | set(range(50)))
    alone = [pipeline.predict_proba(records_frame([records[i]], rules))[0, 1] for i in rows]
    assert np.array_equal(alone, expected[rows])  # bit for bit
    # In calls of mixed sizes, as concurrent requests are scored together.
    scored, start = [], 0
    for size in (1, 2, 3, 5, 8, 13, 1000):
        scored.extend(pipeline.predict_proba(records_frame(records[start:start + size],
                                                           rules))[:, 1])
        start += size
    scored.extend(pipeline.predict_proba(records_frame(records[start:], rules))[:, 1])
    assert np.array_equal(scored, expected)


def test_columns_have_the_dtypes_read_csv_gives_whatever_the_other_records_hold(
        golden: pd.DataFrame, records: list[BaseModel], rules: dict[str, ColumnRule]) -> None:
    gap = next(r for r in records if r.Job is None and r.Income is None)  # type: ignore[attr-defined]
    full = next(r for r in records if all(getattr(r, name) is not None for name in rules))
    for company in ([gap], [gap, full], [full, gap, full]):
        frame = records_frame(company, rules)
        assert list(frame.columns) == list(rules)
        assert frame["Job"].dtype == golden["Job"].dtype  # text, NaN where missing
        assert frame["Income"].dtype == np.float64
        assert frame["Job"].isna().tolist() == [r is gap for r in company]
    alone = records_frame([full], rules)
    assert alone["Seniority"].dtype == np.int64  # integers without a gap stay integers
    integer = ColumnRule(dtype="integer", nullable=True)
    boolean = ColumnRule(dtype="boolean", nullable=True)
    nulls = records_frame([_Row(a=None, b=None), _Row(a=3, b=True)], {"a": integer,
                                                                       "b": boolean})
    assert nulls["a"].dtype == np.float64 and np.isnan(nulls["a"][0]) and nulls["a"][1] == 3
    assert nulls["b"].dtype == object and np.isnan(nulls["b"][0]) and nulls["b"][1] is True


class _Row(BaseModel):
    a: int | None
    b: bool | None
