"""Deploy targets behind one interface: ``local`` (the embedded default) and ``kubernetes``.

``get_target(config)`` returns the configured target; every target implements
``DeployTarget`` and reports what runs where as a ``Deployment``.
"""

from harness.deploy.registry import TARGETS, get_target
from harness.deploy.target import Deployment, DeployTarget

__all__ = ["TARGETS", "DeployTarget", "Deployment", "get_target"]
