"""Reading back the files the harness wrote: each field checked for its type as it is read,
so a corrupt file is refused once, naming the file and the field, before anything uses it.

Standard library only; the readers of manifests, passports and evidence call it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.text import clip

# JSON's types as Python reads them; a bool is not a number here.
_NAMES = {str: "a string", int: "an integer", float: "a number", dict: "an object",
          list: "a list", type(None): "null"}


def read_json_object(path: Path, error: type[HarnessError], what: str,
                     advice: str) -> dict[str, Any]:
    """The JSON object in ``path``; ``error`` naming the file when it is missing, not UTF-8,
    not JSON or not an object."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {what} missing; {advice}", path=path) from None
    except IsADirectoryError:
        raise error(f"{path}: {what} is a folder, not a file; {advice}", path=path) from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror}); {advice}",
                    path=path) from None
    except UnicodeDecodeError:
        raise error(f"{path}: {what} is not UTF-8 text; {advice}", path=path) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise error(f"{path}: {what} is not valid JSON ({clip(exc)}); {advice}",
                    path=path) from None
    if not isinstance(data, dict):
        raise error(f"{path}: {what} holds {_name(data)}, not an object; {advice}", path=path)
    return data


def field(data: dict[str, Any], name: str, types: tuple[type, ...], where: Path,
          error: type[HarnessError], advice: str, *, default: Any = ...,
          within: str = "") -> Any:
    """``data[name]`` if it is one of ``types`` (``default`` when absent and given), else
    ``error`` naming the file and the field (``within`` the object that holds it)."""
    if name not in data:
        if default is not ...:
            return default
        raise error(f"{where}: field '{within}{name}' is missing; {advice}", path=where)
    value = data[name]
    if not _is(value, types):
        expected = " or ".join(_NAMES.get(t, t.__name__) for t in types)
        raise error(f"{where}: field '{within}{name}' is {_name(value)} ({clip(value, 60)}), not "
                    f"{expected}; {advice}", path=where)
    return value


def unknown_fields(data: dict[str, Any], known: set[str], where: Path,
                   error: type[HarnessError], advice: str) -> None:
    """Refuse a field the reader does not know (a typo, or a file of another kind)."""
    extra = sorted(set(data) - known)
    if extra:
        raise error(f"{where}: unknown field '{clip(extra[0], 60)}'; {advice}", path=where)


def _is(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def _name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return _NAMES.get(type(value), type(value).__name__)
