"""What scoring returns: explained lines, per-unit and per-person scores, and their JSON form.

Points are exact Decimals (multiples of 0.0001). `to_json()` emits them exactly, as JSON numbers
with at most 4 decimals, so a unit's `score` is the sum of its lines in the JSON too; only human
output rounds, to 2 places, with `format_points`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from scoring.periods import Period


@dataclass(frozen=True, slots=True)
class Line:
    """One scored item: the rule, the points, what it is about and why, in Chinese."""

    rule: str  # stable: draft, adoption:<channel>, article:<category>, quota:week, entry:<kind>, …
    points: Decimal
    submission_id: int | None
    adoption_id: int | None
    person: str | None  # set on author-split lines only
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "points": points_json(self.points),
            "submission_id": self.submission_id,
            "adoption_id": self.adoption_id,
            "person": self.person,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class UnitScore:
    """A unit's score for a period: `score` is always the sum of `lines`."""

    unit: str
    group: str
    submitted: int  # accepted drafts the unit sent in the period
    score: Decimal
    cumulative: Decimal  # year to date, imported history included
    lines: tuple[Line, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "group": self.group,
            "submitted": self.submitted,
            "score": points_json(self.score),
            "cumulative": points_json(self.cumulative),
            "lines": [line.to_json() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class PersonScore:
    """An author's score: the author-split lines naming them, within one unit."""

    name: str
    unit: str
    score: Decimal
    lines: tuple[Line, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "score": points_json(self.score),
            "lines": [line.to_json() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class MonthScores:
    """`scores --month`: every configured unit, the people, and warnings for the operator's log."""

    month: Period
    profile: str  # e.g. "panjin-2025 2025-05-09": the version the month was scored by
    units: tuple[UnitScore, ...]
    people: tuple[PersonScore, ...]
    warnings: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        return sum((u.score for u in self.units), Decimal(0))

    def unit(self, name: str) -> UnitScore:
        return next(u for u in self.units if u.unit == name)

    def to_json(self, *, people: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "month": self.month.label,
            "profile": self.profile,
            "units": [u.to_json() for u in self.units],
        }
        if people:
            out["people"] = [p.to_json() for p in self.people]
        return out


@dataclass(frozen=True, slots=True)
class YearScores:
    """`scores --year`: one `month` line per scored month per unit and person; `months` in full."""

    year: int
    units: tuple[UnitScore, ...]
    people: tuple[PersonScore, ...]
    months: tuple[MonthScores, ...]
    warnings: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        return sum((u.score for u in self.units), Decimal(0))

    def unit(self, name: str) -> UnitScore:
        return next(u for u in self.units if u.unit == name)

    def to_json(self, *, people: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"year": str(self.year), "units": [u.to_json() for u in self.units]}
        if people:
            out["people"] = [p.to_json() for p in self.people]
        return out


def points_json(points: Decimal) -> float:
    """Exact points as a JSON number: every amount is a multiple of 0.0001, which a float prints back."""
    return float(points)


def format_points(points: Decimal) -> str:
    """Points for people to read: 2 places, half up, trailing zeros dropped (0.33, 0.3, 12)."""
    rounded = points.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format(rounded.normalize(), "f")
    return "0" if text in ("-0", "0") else text
