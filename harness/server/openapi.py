"""The HTTP contract as an OpenAPI document, for any team's model.

The server's own ``/openapi.json`` describes one project's records, column by column.
The contract in docs/openapi.json is the same document with the record left open: one
field per column of ``schema.columns`` except the label.
"""

from __future__ import annotations

from typing import Any

from harness.config import HarnessConfig
from harness.server.app import create_app

GENERIC_RECORD: dict[str, Any] = {
    "title": "Record",
    "type": "object",
    "description": (
        "One record: a field per column of the config's schema.columns except the label "
        "column. integer fields take JSON integers (not booleans), number fields finite "
        "numbers, string fields strings (one of 'allowed' when given), boolean fields "
        "true/false; min/max bounds apply; nullable fields may be null or left out. Unknown "
        "fields are refused."
    ),
    "additionalProperties": True,
}


def contract_document(config: HarnessConfig) -> dict[str, Any]:
    """The contract: the server's OpenAPI document with a generic record."""
    document = create_app(config).openapi()
    document["info"] = {
        "title": "harness model service contract",
        "version": "1",
        "description": (
            "What a model service must answer for the harness: the generic server "
            "(`harness serve`) speaks it, and `harness check` with the `contract` check "
            "tests a team's own service against it."
        ),
    }
    document["components"]["schemas"]["Record"] = GENERIC_RECORD
    return document
