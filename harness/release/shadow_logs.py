"""Reading two services' prediction logs and joining them request by request.

Both logs are read over HTTP (``GET /predictions/log``, docs/model-contract.md) from a
cursor taken before the mirror was turned on, so only the window's requests count. A pair
is production's answer and the shadow's to the same request id and row; production's
failed answers are left out (there is nothing to compare with), and a production answer the
shadow never logged is counted apart (the mirror gave up, or the shadow lost it). With a
noise floor, a third log (a copy of production's revision, mirrored too) is joined the same
way: ``TripleJoin`` gives production's, the shadow's and the copy's answer to each request.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from pydantic import ValidationError

from harness.errors import DeployError
from harness.server.prediction_log import PAGE_LIMIT, LoggedPrediction, PredictionLogPage
from harness.text import clip

LOG_PATH = "/predictions/log"
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Pair:
    """One request as production and the shadow answered it."""

    production: LoggedPrediction
    shadow: LoggedPrediction

    @property
    def shadow_failed(self) -> bool:
        return self.shadow.status != 200


class LogReader:
    """Reads one service's log onward from where it stood when the reader was made."""

    def __init__(self, base_url: str, who: str) -> None:
        self.url, self.who = base_url.rstrip("/") + LOG_PATH, who
        self.records: list[LoggedPrediction] = []
        self.lost = 0  # records the service dropped (its bounds) before we read them
        first = self._page(0, 1)
        if first.max_records == 0:
            raise DeployError(f"the {who}'s prediction log at {self.url} keeps no records "
                              "(server.prediction_log.max_records is 0), so its answers cannot "
                              "be compared; give it room for the window's requests",
                              key="server.prediction_log.max_records")
        self._since = first.last_seq

    def _page(self, since: int, limit: int) -> PredictionLogPage:
        try:
            answer = httpx.get(self.url, params={"since": since, "limit": limit},
                               timeout=TIMEOUT_S)
            answer.raise_for_status()
            return PredictionLogPage.model_validate_json(answer.content)
        except httpx.HTTPError as exc:
            raise DeployError(f"cannot read the {self.who}'s prediction log at {self.url}: "
                              f"{clip(exc)}; it must serve {LOG_PATH} "
                              "(docs/model-contract.md)") from None
        except ValidationError as exc:
            raise DeployError(f"the {self.who}'s prediction log at {self.url} is not in the "
                              f"contract's shape ({clip(exc.errors()[0]['msg'])}); see "
                              "docs/model-contract.md") from None

    def read(self) -> list[LoggedPrediction]:
        """Everything logged since the last read, appended to ``records`` and returned."""
        new: list[LoggedPrediction] = []
        while True:
            page = self._page(self._since, PAGE_LIMIT)
            if page.first_seq > self._since + 1:
                self.lost += page.first_seq - self._since - 1
            new.extend(page.records)
            self._since = max(page.next, self._since)
            if len(page.records) < PAGE_LIMIT:
                break
        self.records.extend(new)
        return new


class Join:
    """Pairs records of production and the shadow on (request id, row) as they arrive,
    in the order production answered them."""

    def __init__(self) -> None:
        self._production: dict[tuple[str, int], LoggedPrediction] = {}
        self._shadow: dict[tuple[str, int], LoggedPrediction] = {}
        self.pairs: list[Pair] = []
        self.production_failed = 0

    def add(self, production: list[LoggedPrediction],
            shadow: list[LoggedPrediction]) -> list[Pair]:
        """Take newly read records; return the pairs they complete, in production's order."""
        for record in production:
            if record.status != 200:
                self.production_failed += 1
            else:
                self._production[(record.request_id, record.index)] = record
        for record in shadow:
            self._shadow[(record.request_id, record.index)] = record
        matched = sorted((key for key in self._production if key in self._shadow),
                         key=lambda key: self._production[key].seq)
        new = [Pair(self._production.pop(key), self._shadow.pop(key)) for key in matched]
        self.pairs.extend(new)
        return new

    @property
    def unmatched(self) -> int:
        """Production's answers the shadow has not logged (yet)."""
        return len(self._production)

    def pending(self) -> set[tuple[str, int]]:
        """The (request id, row) of those answers."""
        return set(self._production)


@dataclass(frozen=True)
class Triple:
    """One request as production, the shadow and production's copy answered it."""

    production: LoggedPrediction
    shadow: LoggedPrediction
    copy: LoggedPrediction

    @property
    def pair(self) -> Pair:
        return Pair(self.production, self.shadow)

    @property
    def copy_pair(self) -> Pair:
        return Pair(self.production, self.copy)


class TripleJoin:
    """Production's records with the shadow's and the copy's on (request id, row), as they
    arrive, in the order production answered them; a request is complete when all three
    logged it."""

    def __init__(self) -> None:
        self._shadow, self._copy = Join(), Join()
        self._waiting: dict[tuple[str, int], dict[str, Pair]] = {}
        self.triples: list[Triple] = []

    def add(self, production: list[LoggedPrediction], shadow: list[LoggedPrediction],
            copy: list[LoggedPrediction]) -> list[Triple]:
        """Take newly read records; return the triples they complete, in production's order."""
        for side, join, records in (("shadow", self._shadow, shadow),
                                    ("copy", self._copy, copy)):
            for pair in join.add(production, records):
                key = (pair.production.request_id, pair.production.index)
                self._waiting.setdefault(key, {})[side] = pair
        done = sorted((key for key, sides in self._waiting.items() if len(sides) == 2),
                      key=lambda key: self._waiting[key]["shadow"].production.seq)
        new = [Triple(pairs["shadow"].production, pairs["shadow"].shadow, pairs["copy"].shadow)
               for pairs in (self._waiting.pop(key) for key in done)]
        self.triples.extend(new)
        return new

    @property
    def production_failed(self) -> int:
        return self._shadow.production_failed

    @property
    def unmatched(self) -> int:
        """Production's answers the shadow or the copy has not logged (yet)."""
        return len(self._shadow.pending() | self._copy.pending())

    @property
    def shadow_unmatched(self) -> int:
        """Production's answers the shadow has not logged (yet): the shadow's to answer for."""
        return self._shadow.unmatched

    @property
    def copy_unmatched(self) -> int:
        """Production's answers only the copy has not logged (yet): not the shadow's fault."""
        return len(self._copy.pending() - self._shadow.pending())
