"""The request body the server accepts, derived from the config's data schema.

Every column of ``schema.columns`` but the label becomes a field: integers and
booleans are strict (``true`` is not 1), numbers must be finite, strings keep
their ``allowed`` values, ranges are enforced, nullable columns may be null or
left out. An unknown field is refused, so a typo is not silently scored as a
missing value.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, create_model

from harness.config import ColumnRule, HarnessConfig

MAX_BATCH = 1000


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


def _annotation(rule: ColumnRule) -> Any:
    if rule.allowed is not None:
        annotation: Any = Literal[tuple(rule.allowed)]  # type: ignore[misc]
    elif rule.dtype == "integer":
        annotation = StrictInt
    elif rule.dtype in ("number", "float"):
        # A whole number is a number too; a boolean is not.
        annotation = StrictInt | float
    elif rule.dtype == "boolean":
        annotation = StrictBool
    else:
        annotation = StrictStr
    return annotation | None if rule.nullable else annotation


def _field(rule: ColumnRule) -> Any:
    bounds: dict[str, Any] = {}
    if rule.allowed is None and rule.dtype in ("integer", "number", "float"):
        bounds = {"ge": rule.min, "le": rule.max}
    default = None if rule.nullable else ...
    return Field(default, **{k: v for k, v in bounds.items() if v is not None})


def record_model(config: HarnessConfig) -> type[BaseModel]:
    """A pydantic model of one record: the schema's columns minus the label."""
    fields = {
        name: (_annotation(rule), _field(rule))
        for name, rule in config.data_schema.columns.items()
        if name != config.model.label_column
    }
    return create_model("Record", __base__=_Record, **fields)  # type: ignore[call-overload]


def batch_model(record: type[BaseModel]) -> type[BaseModel]:
    """``{"records": [record, ...]}``, 1 to ``MAX_BATCH`` records."""
    return create_model(  # type: ignore[call-overload]
        "BatchRequest", __base__=_Record,
        records=(list[record], Field(min_length=1, max_length=MAX_BATCH)),  # type: ignore[valid-type]
    )
