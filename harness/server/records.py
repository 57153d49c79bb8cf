"""The request body the server accepts, derived from the config's data schema.

Every column of ``schema.columns`` but the label becomes a field: integers and
booleans are strict (``true`` is not 1; ``21.0`` is 21, as in JSON Schema), numbers must be
finite, strings keep
their ``allowed`` values, ranges are enforced, nullable columns may be null or
left out. An unknown field is refused, so a typo is not silently scored as a
missing value.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    create_model,
)

from harness.config import ColumnRule, HarnessConfig

MAX_BATCH = 1000


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


def _whole(value: Any) -> Any:
    # JSON has one number type: to JSON Schema, and so to the published contract, 21.0 is
    # the integer 21. 21.5, "21" and true are still refused.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _annotation(rule: ColumnRule) -> Any:
    # Bounds sit inside each type, so the OpenAPI document states them as minimum/maximum
    # (on a union pydantic would emit ge/le, which JSON Schema ignores).
    limits = {k: v for k, v in (("ge", rule.min), ("le", rule.max)) if v is not None}
    if rule.allowed is not None:
        annotation: Any = Literal[tuple(rule.allowed)]  # type: ignore[misc]
    elif rule.dtype == "integer":
        annotation = Annotated[int, Field(**limits), BeforeValidator(_whole)]
    elif rule.dtype in ("number", "float"):
        # Strict floats take whole numbers too, never a boolean.
        annotation = Annotated[float, Field(**limits)]
    elif rule.dtype == "boolean":
        annotation = StrictBool
    else:
        annotation = StrictStr
    return annotation | None if rule.nullable else annotation


def _field(rule: ColumnRule) -> Any:
    return Field(None if rule.nullable else ...)


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
