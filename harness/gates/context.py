"""One run of a profile, resolved once: the config, the profile, the environment it checks,
the service it reaches there and the folder for the checks' own reports. The engine makes
it before anything runs and passes it down (preflight, the protocol probe, pytest's
command); in the pytest process the plugin makes the same one from its options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.config import HarnessConfig, ProfileSpec


@dataclass(frozen=True)
class RunContext:
    """``target_url`` is the service the profile checks (``--target-url``, else its
    environment's address; ``None`` when it checks no environment), and ``target_key`` the
    option or config key it comes from, so a problem with it is named by that key."""

    config: HarnessConfig
    profile_name: str
    profile: ProfileSpec
    target_url: str | None = None
    target_key: str | None = None
    reports: Path | None = None

    @classmethod
    def resolve(cls, config: HarnessConfig, profile_name: str, target_url: str | None = None,
                reports: Path | None = None) -> RunContext:
        """The context of ``profile_name`` (an unknown profile is refused, naming the known
        ones), with ``--target-url`` and ``--reports`` as given."""
        profile = config.profile(profile_name)
        url, key = target_url, "--target-url" if target_url else None
        if profile.environment is not None and target_url is None:
            environment = config.environment(profile.environment)
            url = environment.address()
            key = (f"environments.{profile.environment}.url" if environment.url
                   else f"environments.{profile.environment}.port")
        return cls(config, profile_name, profile, url, key,
                   reports.absolute() if reports is not None else None)

    @property
    def environment(self) -> str | None:
        """The deployed environment the profile checks, if any."""
        return self.profile.environment
