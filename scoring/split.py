"""Co-author splitting: a draft's points shared evenly among its 撰稿人, never creating or losing any.

三(一)2 of the regulation: 信息撰稿由多人协作完成的按人数平均得分. Shares are 0.0001 exact; the
remainder of the division goes 0.0001 at a time to the first authors, so shares always add up.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

from scoring.records import AuthorRecord, SubmissionRecord

QUANTUM = Decimal("0.0001")


def split_evenly(amount: Decimal, n: int) -> tuple[Decimal, ...]:
    """`amount` in `n` parts of 4 decimal places summing exactly to `amount`, larger parts first.

    Deductions split like gains (−1 in three: −0.3334, −0.3333, −0.3333). Were `amount` finer than
    0.0001 (profiles forbid it), the sub-quantum rest would go to the first part.
    """
    if n < 1:
        raise ValueError(f"cannot split among {n} authors")
    # Every draft asks for the same few splits. Keyed by the exponent too, so that 0.3 and 0.3000
    # (equal, but not the same Decimal) each get exactly what they always got.
    return _split(amount, amount.as_tuple().exponent, n)


@lru_cache(maxsize=1024)
def _split(amount: Decimal, _exponent: int | str, n: int) -> tuple[Decimal, ...]:
    magnitude = abs(amount)
    base = (magnitude / n).quantize(QUANTUM, rounding=ROUND_DOWN)
    parts = [base] * n
    rest = magnitude - base * n
    steps = int(rest // QUANTUM)  # always < n
    for i in range(steps):
        parts[i] += QUANTUM
    parts[0] += rest - steps * QUANTUM
    return tuple(-p if amount < 0 else p for p in parts)


@dataclass(frozen=True, slots=True)
class Share:
    """One author's part of an amount, and the unit it rolls up to."""

    unit: str
    person: str | None
    points: Decimal
    note: str  # e.g. "3人合写，王强得0.1分"


def author_shares(
    submission: SubmissionRecord, amount: Decimal, *, sender: str, units: Collection[str], split: bool
) -> tuple[Share, ...]:
    """Shares of `amount` for the authors of `submission`, sent by the configured unit `sender`.

    An author whose unit is unresolved (or not configured) scores for the sending unit; a draft
    without authors scores wholly to the sending unit, as does every draft when `split` is off
    (then credited to its first author, the one the bulletin names).
    """
    authors = submission.authors
    if not authors:
        return (Share(sender, None, amount, "未署撰稿人，全部计入报送单位"),)
    if not split:
        first = authors[0].name
        return (Share(sender, first, amount, f"不按撰稿人拆分，全部计入报送单位（第一撰稿人{first}）"),)
    parts = split_evenly(amount, len(authors))
    shares = []
    for author, part in zip(authors, parts, strict=True):
        unit = home_of(author, sender=sender, units=units)
        known = author.unit is not None and unit == author.unit
        note = (
            f"撰稿人{author.name}"
            if len(authors) == 1
            else f"{len(authors)}人合写，{author.name}得{fmt(part)}分"
        )
        if not known:
            note += f"（{author.name}的单位未能识别，计入报送单位）"
        shares.append(Share(unit, author.name, part, note))
    return tuple(shares)


def home_of(author: AuthorRecord, *, sender: str, units: Collection[str]) -> str:
    """The unit an author's share rolls up to: theirs if configured, else the sending unit's."""
    return author.unit if author.unit is not None and author.unit in units else sender


@lru_cache(maxsize=4096)
def fmt(points: Decimal) -> str:
    """Exact points as people write them: 0.3, 1, 0.3334, -1 (no exponent, no trailing zeros).

    Cached: equal amounts (0.3 and 0.3000) normalise alike, so either may answer for the other.
    """
    text = format(points.normalize(), "f")
    return "0" if text in ("-0", "0") else text
