"""The report's work done ahead, while pytest runs, on the core pytest leaves free.

pytest runs in its own process and the engine only waits for it. Meanwhile a thread here
imports what the report draws with and, as soon as the gates are done (their scores are
final once pytest tears their file down, ``harness.gates.scores.complete``, while it goes
on with the team's own tests), draws the pictures of the model into the run's ``html``
folder (or copies them, when the same scores were drawn before: ``picture_cache``). They are used only if the scores they were drawn from are byte for byte the ones
the run kept when pytest ended; otherwise, or when pytest ended first, the report draws
them after pytest as it always did. Nothing here decides anything.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.run.report.model_plots import ModelSection

_POLL_S = 0.05  # how often the thread looks for the gates' end: small against pytest's run


class Ahead:
    """The thread that prepares a run's report in ``reports`` (the staging folder pytest
    writes into) until ``stop``; ``models`` hands over what it drew."""

    def __init__(self, reports: Path, imports: tuple[str, ...] = (),
                 cache: Path | None = None) -> None:
        self._reports = reports
        self._imports = imports
        self._cache = cache
        self._stopped = threading.Event()
        self._drawn: tuple[str, list[ModelSection]] | None = None
        self._thread = threading.Thread(target=self._work, name="report-ahead", daemon=True)

    @classmethod
    def start(cls, reports: Path, imports: tuple[str, ...] = (),
              cache: Path | None = None) -> Ahead:
        """Start the thread; it first imports the modules named in ``imports`` (what the
        run needs once pytest has ended). With a ``cache`` folder, pictures of scores drawn
        before are copied from it (``picture_cache``)."""
        ahead = cls(reports, imports, cache)
        ahead._thread.start()
        return ahead

    def _work(self) -> None:
        from harness.gates import scores

        for name in self._imports:
            importlib.import_module(name)
        while not scores.complete(self._reports):
            if self._stopped.wait(_POLL_S) and not scores.complete(self._reports):
                return
        try:
            self._drawn = self._draw()
        except Exception:  # noqa: BLE001 - drawn again after pytest, where an error is raised
            self._drawn = None

    def _draw(self) -> tuple[str, list[ModelSection]]:
        from harness.gates import scores
        from harness.run.report import picture_cache

        kept = scores.fingerprint(self._reports)
        found = scores.load(self._reports)
        if not found:
            return kept, []
        folder = self._reports / "html"
        entry = picture_cache.key(kept)
        if self._cache is not None:
            sections = picture_cache.fetch(self._cache, entry, folder)
            if sections is not None:
                return kept, sections
        # Imported only now: scikit-learn is not needed when the pictures were kept.
        from harness.run.report.model_plots import model_sections

        folder.mkdir(exist_ok=True)
        sections = model_sections(found, folder)
        if self._cache is not None:
            picture_cache.store(self._cache, entry, folder, sections)
        return kept, sections

    def stop(self) -> None:
        """pytest has ended: stop waiting for the gates, and finish a drawing under way
        (before the staging folder is renamed)."""
        self._stopped.set()
        self._thread.join()

    def abandon(self) -> None:
        """The run ends without a report (refused, interrupted): the thread draws nothing
        more and is not waited for (it may be importing)."""
        self._stopped.set()

    def models(self, reports: Path) -> list[ModelSection] | None:
        """The model's pictures drawn ahead, now in ``reports/html``, when the scores kept
        in ``reports`` are the ones they were drawn from; else None (draw them)."""
        from harness.gates import scores

        if self._drawn is None or self._thread.is_alive():
            return None
        kept, sections = self._drawn
        return sections if scores.fingerprint(reports) == kept else None
