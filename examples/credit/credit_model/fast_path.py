"""The fitted preprocessing step as plain array arithmetic, so scoring one record costs
tens of microseconds instead of the ~5 ms scikit-learn's ColumnTransformer spends on
validation and pandas indexing for a single row.

It reproduces exactly the steps `build_pipeline` makes (median imputation of numbers;
most-frequent imputation and one-hot encoding of categories, unknown categories all
zeros) from their fitted attributes; `FastPreprocess.compile` returns None for any other
fitted step, and the model then uses the pipeline itself. The unit suite checks both
give the same scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder


@dataclass(frozen=True)
class _Numeric:
    columns: list[str]
    fill: np.ndarray

    def transform(self, data: dict[str, np.ndarray], rows: int) -> np.ndarray:
        block = np.empty((rows, len(self.columns)), dtype=float)
        for j, col in enumerate(self.columns):
            block[:, j] = data[col]
        missing = np.isnan(block)
        if missing.any():
            block[missing] = np.broadcast_to(self.fill, block.shape)[missing]
        return block


@dataclass(frozen=True)
class _OneHot:
    columns: list[str]
    fill: list[object]
    codes: list[dict[object, int]]

    def transform(self, data: dict[str, np.ndarray], rows: int) -> np.ndarray:
        widths = [len(c) for c in self.codes]
        block = np.zeros((rows, sum(widths)), dtype=float)
        offset = 0
        for col, fill, codes, width in zip(self.columns, self.fill, self.codes, widths,
                                           strict=True):
            values = data[col]
            missing = pd.isna(values)
            for i, (value, absent) in enumerate(zip(values, missing, strict=True)):
                code = codes.get(fill if absent else value, -1)
                if code >= 0:
                    block[i, offset + code] = 1.0
            offset += width
        return block


def _numeric(step: object, columns: list[str]) -> _Numeric | None:
    if not (isinstance(step, SimpleImputer) and step.strategy == "median"
            and not step.add_indicator and not np.isnan(step.statistics_).any()):
        return None
    return _Numeric(list(columns), np.asarray(step.statistics_, dtype=float))


def _one_hot(step: object, columns: list[str]) -> _OneHot | None:
    if not (isinstance(step, Pipeline) and len(step.steps) == 2):
        return None
    imputer, encoder = step.steps[0][1], step.steps[1][1]
    if not (isinstance(imputer, SimpleImputer) and imputer.strategy == "most_frequent"
            and not imputer.add_indicator and isinstance(encoder, OneHotEncoder)
            and encoder.drop is None and encoder.handle_unknown == "ignore"
            and encoder.min_frequency is None and encoder.max_categories is None):
        return None
    codes = [{value: i for i, value in enumerate(categories)}
             for categories in encoder.categories_]
    return _OneHot(list(columns), list(imputer.statistics_), codes)


@dataclass(frozen=True)
class FastPreprocess:
    blocks: list[_Numeric | _OneHot]

    @classmethod
    def compile(cls, preprocess: object) -> FastPreprocess | None:
        """The fitted ColumnTransformer's arithmetic, or None if it holds other steps."""
        if not isinstance(preprocess, ColumnTransformer):
            return None
        blocks: list[_Numeric | _OneHot] = []
        for name, step, columns in preprocess.transformers_:
            if name == "remainder":
                if step != "drop":
                    return None
                continue
            block = _numeric(step, columns) or _one_hot(step, columns)
            if block is None:
                return None
            blocks.append(block)
        return cls(blocks)

    def transform(self, data: dict[str, np.ndarray]) -> np.ndarray:
        """The model input matrix from coerced feature columns (see `coerce_columns`)."""
        rows = len(next(iter(data.values())))
        return np.hstack([block.transform(data, rows) for block in self.blocks])
