"""The generic model server (``harness serve``): any entry-point model over HTTP."""

from harness.server.app import create_app
from harness.server.faults import FaultInjection

__all__ = ["FaultInjection", "create_app"]
