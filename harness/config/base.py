"""What every section of the config shares: strict models (unknown keys and non-finite
numbers refused), names, URLs, and errors placed at the exact key."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]


def invalid_at(loc: tuple[str | int, ...], message: str, value: Any) -> ValidationError:
    """An error at ``loc`` below the value being validated, so the message names the exact
    key (``gates.quality.roc_auc.min``) rather than the section that holds it."""
    error = PydanticCustomError("invalid", "{message}", {"message": message})
    return ValidationError.from_exception_data(
        "harness.yaml", [InitErrorDetails(type=error, loc=loc, input=value)])


def _http_url(value: str) -> str:
    """An http(s) URL with a host and a valid port; refused at load, not at first use."""
    how = "write it as http://HOST[:PORT][/PATH]"
    if any(c.isspace() for c in value):
        raise ValueError(f"'{value}' contains whitespace; {how}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"'{value}' is not an http:// or https:// URL; {how}")
    if not parts.hostname:
        raise ValueError(f"'{value}' has no host; {how}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in 0..65535
    except ValueError:
        raise ValueError(f"'{value}' has an invalid port; {how}") from None
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class StrictModel(BaseModel):
    # Non-finite numbers (.nan, .inf) are refused: every comparison with NaN is false, so a
    # gate bound of .nan would pass or fail silently.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
