"""What besides the model identifies what a candidate was tested with: the config file and
each golden set's manifest, by digest (evidence, deployments and published candidates
record them; promotion checks they have not changed)."""

from __future__ import annotations

from harness.config import HarnessConfig
from harness.data import golden
from harness.digests import sha256_file


def golden_digests(config: HarnessConfig) -> dict[str, str]:
    """Each golden set's manifest digest, by name."""
    return {spec.name: golden.manifest_digest(config.resolve(spec.path).parent)
            for spec in config.golden}


def identity_digests(config: HarnessConfig) -> dict[str, str]:
    """What besides the model identifies a candidate: the config and the golden data."""
    golden_data = golden_digests(config)
    return {"config": sha256_file(config.source),
            "golden": ",".join(f"{k}={v}" for k, v in sorted(golden_data.items()))}
