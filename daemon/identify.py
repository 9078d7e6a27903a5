"""Who sent a draft and whose it is: sender → registered publicist → unit; 撰稿人 units by name.

Pure over the configured units and publicists (the ledger's units are synced from the same
config), so the pipeline and `parse` agree on every answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from daemon.config import Publicist, Unit

# Brackets publicists put around the section within a unit: "盘山县应急管理局（办公室）".
_BRACKETED = re.compile(r"[（(【\[]([^）)】\]]*)[）)】\]]")
_SPACES = re.compile(r"\s+")
# Only near-certain fuzzy matches count (a typo, a missing 局); anything vaguer is unknown_unit.
_FUZZY_CUTOFF = 90.0


@dataclass(frozen=True)
class Directory:
    """The configured units and publicists, indexed for lookups."""

    units: tuple[Unit, ...]
    publicists: tuple[Publicist, ...]

    def publicist(self, address: str) -> Publicist | None:
        address = address.strip().lower()
        for p in self.publicists:
            if p.email.strip().lower() == address:
                return p
        return None

    def unit(self, name: str) -> Unit | None:
        for u in self.units:
            if u.name == name:
                return u
        return None

    def resolve_unit(self, written: str) -> Unit | None:
        """The unit a 撰稿人 line names, as written: exact, alias, bracket-stripped, then fuzzy."""
        text = _normalise(written)
        if not text:
            return None
        candidates = [text, _normalise(_BRACKETED.sub("", text))]
        candidates += [_normalise(m) for m in _BRACKETED.findall(text)]
        index = self._index()
        for c in candidates:
            if c in index:
                return index[c]
        best = process.extractOne(
            candidates[1] or text, list(index), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF
        )
        return index[best[0]] if best else None

    def _index(self) -> dict[str, Unit]:
        index: dict[str, Unit] = {}
        for u in self.units:
            for name in (u.name, *u.aliases):
                index.setdefault(_normalise(name), u)
        return index


def _normalise(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def directory(units: Sequence[Unit], publicists: Sequence[Publicist]) -> Directory:
    return Directory(tuple(units), tuple(publicists))
