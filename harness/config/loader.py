"""Read ``harness.yaml``: YAML without duplicate keys, validated into a ``HarnessConfig``, every
failure one ``ConfigError`` naming the file and each key, every path checked to exist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from harness.config.project import HarnessConfig
from harness.errors import ConfigError
from harness.text import clip


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of silently keeping the last."""


# libyaml's scanner and parser where PyYAML has them (its wheels do): the same documents
# with the same constructors, read about ten times faster. A file it refuses is read again
# by PyYAML's own parser, whose messages and positions the harness gives.
_FastLoader: type[yaml.SafeLoader] = _UniqueKeyLoader
if getattr(yaml, "__with_libyaml__", False):
    class _FastUniqueKeyLoader(yaml.CSafeLoader):
        """``_UniqueKeyLoader`` over libyaml."""

    _FastLoader = _FastUniqueKeyLoader  # type: ignore[assignment]


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


for _loader in {_UniqueKeyLoader, _FastLoader}:
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(text: str) -> Any:
    """The document; a refused one raises PyYAML's own parser's error."""
    try:
        return yaml.load(text, Loader=_FastLoader)
    except yaml.YAMLError:
        return yaml.load(text, Loader=_UniqueKeyLoader)


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top level)"


def _describe(error: ValidationError, source: Path) -> tuple[list[str], str]:
    """The keys at fault, and one message naming each."""
    keys, lines = [], []
    for item in error.errors():
        # Pydantic appends the failing union member or validator name; drop them.
        loc = tuple(
            p for p in item["loc"] if not str(p).startswith(("function-", "list[", "[key]"))
        )
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and indentation)"
        keys.append(_key_path(loc))
        lines.append(f"key '{clip(keys[-1], 100)}': {clip(message, 300)}")
    return keys, f"{source}: invalid configuration\n  " + "\n  ".join(lines)


def _named_paths(config: HarnessConfig) -> list[tuple[str, Path]]:
    """Every path the config names that must exist before anything runs, by its key."""
    return [
        *((f"golden[{i}].path", d.path) for i, d in enumerate(config.golden)),
        *((("training.path", config.training.path),) if config.training else ()),
        *((("load.locustfile", config.load.locustfile),) if config.load.locustfile else ()),
    ]


def _check_files_exist(config: HarnessConfig) -> None:
    missing = [
        (f"{where}", config.resolve(path))
        for where, path in [
            *_named_paths(config),
            *(
                (f"profiles.{name}.tests[{i}]", test)
                for name, profile in config.profiles.items()
                for i, test in enumerate(profile.tests)
            ),
        ]
        if not config.resolve(path).exists()
    ]
    if missing:
        listed = "\n  ".join(f"key '{key}': no such file or folder: {path}" for key, path in missing)
        raise ConfigError(f"{config.source}: a path in the configuration does not exist\n  {listed}",
                          key=missing[0][0], path=config.source)


def load_config(path: str | Path) -> HarnessConfig:
    """Read and validate a harness configuration file."""
    source = Path(path).resolve()
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: configuration file not found", path=source) from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read configuration: {exc.strerror}",
                          path=source) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                          f"position {exc.start}); save the configuration as UTF-8",
                          path=source) from None
    try:
        data = _read_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}:{where}: not valid YAML: {problem}", path=source) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys at the top level", path=source)
    try:
        config = HarnessConfig.model_validate(data)
    except ValidationError as exc:
        keys, message = _describe(exc, source)
        raise ConfigError(message, key=keys[0], path=source) from None
    config._source = source
    _check_files_exist(config)
    return config
