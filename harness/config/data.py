"""The config's data sections: the schema's column rules, datasets and slices."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from harness.config.base import Name, StrictModel


class ColumnRule(StrictModel):
    """What one column must look like: dtype, nullability, and allowed values or a range."""

    dtype: Literal["integer", "float", "number", "string", "boolean"]
    nullable: bool = False
    allowed: list[str | int | float] | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _range_is_ordered(self) -> ColumnRule:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.allowed is not None and (self.min is not None or self.max is not None):
            raise ValueError("give either 'allowed' or a 'min'/'max' range, not both")
        return self


class SchemaSpec(StrictModel):
    columns: dict[str, ColumnRule] = Field(min_length=1)


class SliceSpec(StrictModel):
    """A segment of the data, by a categorical column's values or a numeric column's bins."""

    name: Name
    column: str
    bins: list[float] | None = Field(default=None, min_length=2)

    @model_validator(mode="after")
    def _bins_increase(self) -> SliceSpec:
        if self.bins is not None and any(a >= b for a, b in zip(self.bins, self.bins[1:])):
            raise ValueError("bins must be strictly increasing")
        return self


class DatasetSpec(StrictModel):
    name: Name
    path: Path
