"""Properties over random ledgers: points add up from people to units to the total; revoking is undoable."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from importlib.resources import files

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.profile import Profile
from scoring.profile_toml import parse_profile
from scoring.records import AdoptionRecord, OfficeEntry, SubmissionRecord
from scoring.results import MonthScores
from tests.scoring.builders import EXAMPLE, PANJIN, UNITS, adopt, draft, entry, month, year

Ledger = tuple[list[SubmissionRecord], list[AdoptionRecord], list[OfficeEntry]]
NAMES = ("王强", "李明", "赵敏", "李娜")
UNIT_NAMES = [u.name for u in UNITS] + ["市消防支队", None]  # an unconfigured and an unresolved author unit
CHANNELS = ("市委盘锦信息", "市政府政务信息", "省级", "国家级", "省网站", "国家要情", "微信公众号")
# Panjin's rules with every draft credited wholly to its sending unit (and its first author).
UNSPLIT = parse_profile(
    (files("scoring") / "profiles" / "panjin-2025.toml")
    .read_text(encoding="utf-8")
    .replace("split_authors = true", "split_authors = false"),
    source="panjin-2025, unsplit",
)

authors = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(UNIT_NAMES)), max_size=4)
drafts = st.lists(
    st.tuples(
        st.sampled_from([u.name for u in UNITS]),
        st.integers(1, 30),
        authors,
        st.sampled_from(["accepted", "accepted", "accepted", "rejected"]),
        st.sampled_from(["regular", "regular", "research", "experience"]),
        st.sampled_from([800, 2400]),
    ),
    min_size=1,
    max_size=14,
)


@st.composite
def ledgers(draw: st.DrawFn) -> Ledger:
    rows = draw(drafts)
    subs = [
        draft(i, unit, f"2025-06-{day:02d}", *who, status=status, category=category, chars=chars)
        for i, (unit, day, who, status, category, chars) in enumerate(rows, start=1)
    ]
    picks = draw(
        st.lists(
            st.tuples(
                st.integers(1, len(subs)),
                st.sampled_from(CHANNELS),
                st.sampled_from([3, 20, 30]),
                st.booleans(),
            ),
            max_size=8,
        )
    )
    adoptions = [
        adopt(n, sid, channel, f"2025-06-{day:02d}", revoked="2025-06-30" if revoked else None)
        for n, (sid, channel, day, revoked) in enumerate(picks, start=1)
    ]
    kinds = st.sampled_from(["leader_instruction", "late", "typos"])
    notes = draw(
        st.lists(st.tuples(st.integers(1, len(subs)), kinds, st.sampled_from(["0.5", "1", "3"])), max_size=4)
    )
    entries = [
        entry(n, kind, "2025-06-15", submission_id=sid, points=pts)
        for n, (sid, kind, pts) in enumerate(notes, start=1)
    ]
    return subs, adoptions, entries


def _check_sums(scores: MonthScores) -> None:
    for unit in scores.units:
        assert unit.score == sum((x.points for x in unit.lines), Decimal(0))
    assert scores.total == sum((u.score for u in scores.units), Decimal(0))
    per_unit_person_lines: dict[str, Decimal] = defaultdict(Decimal)
    for unit in scores.units:
        for x in unit.lines:
            if x.person is not None:
                per_unit_person_lines[unit.unit] += x.points
    per_unit_people: dict[str, Decimal] = defaultdict(Decimal)
    for person in scores.people:
        assert person.score == sum((x.points for x in person.lines), Decimal(0))
        assert all(x.person == person.name for x in person.lines)
        per_unit_people[person.unit] += person.score
    assert per_unit_people == per_unit_person_lines
    assert sum(per_unit_people.values(), Decimal(0)) == sum(per_unit_person_lines.values(), Decimal(0))


@settings(max_examples=60, deadline=None)
@given(ledger=ledgers(), profile=st.sampled_from([PANJIN, EXAMPLE]))
def test_people_sum_to_units_sum_to_the_total(ledger: Ledger, profile: Profile) -> None:
    """Over any ledger: unit = Σ its lines; total = Σ units; Σ people = Σ units' author-split lines, per unit."""
    subs, adoptions, entries = ledger
    scores = month("2025-06", subs=subs, adoptions=adoptions, entries=entries, profile=profile)
    _check_sums(scores)
    assert [u.unit for u in scores.units] == [u.name for u in UNITS]


@settings(max_examples=60, deadline=None)
@given(ledger=ledgers(), profile=st.sampled_from([PANJIN, EXAMPLE]), pick=st.integers(0, 100))
def test_revoking_then_re_adding_an_adoption_restores_the_same_scores(
    ledger: Ledger,
    profile: Profile,
    pick: int,
) -> None:
    """The office revokes an adoption, then records it again (a new row): every score is as before."""
    subs, adoptions, entries = ledger
    standing = [a for a in adoptions if a.revoked_at is None]
    if not standing:
        standing = [adopt(99, 1, "省级", "2025-06-20")]
        adoptions = [*adoptions, standing[0]]
    chosen = standing[pick % len(standing)]
    revoked = [replace(a, revoked_at=a.adopted_at) if a is chosen else a for a in adoptions]
    readded = [*revoked, replace(chosen, id=1000)]

    def view(records: list[AdoptionRecord]) -> tuple[Decimal, object, object]:
        scores = month("2025-06", subs=subs, adoptions=records, entries=entries, profile=profile)
        units = [
            (u.unit, u.score, [(x.rule, x.points, x.person, x.note) for x in u.lines]) for u in scores.units
        ]
        return scores.total, units, [(p.name, p.unit, p.score) for p in scores.people]

    before, after = view(adoptions), view(readded)
    assert before == after
    assert view(revoked)[0] <= before[0]


@settings(max_examples=60, deadline=None)
@given(
    ledger=ledgers(),
    profile=st.sampled_from([PANJIN, EXAMPLE, UNSPLIT]),
    july=st.sets(st.integers(1, 14)),
)
def test_months_added_up_per_author_score_as_their_itemized_lines(
    ledger: Ledger, profile: Profile, july: set[int]
) -> None:
    """`scores --year` shows each month as a sum, and `scores --month` carries the months before
    only into the cumulative score: their drafts are added up per unit and author instead of
    listed one by one (capped, co-written, of unresolved authors, credited whole). The units, the
    people and July's cumulative score are those of the itemized months."""
    subs, adoptions, entries = ledger
    subs = [replace(s, received_at=s.received_at + timedelta(days=30)) if s.id in july else s for s in subs]
    records = {"subs": subs, "adoptions": adoptions, "entries": entries, "profile": profile}
    itemized = year(2025, **records)
    summed = year(2025, **records, itemized=False)
    assert (summed.units, summed.people, summed.warnings) == (
        itemized.units,
        itemized.people,
        itemized.warnings,
    )
    assert sum(len(u.lines) for m in summed.months for u in m.units) <= sum(
        len(u.lines) for m in itemized.months for u in m.units
    )
    carried = month("2025-07", **records)
    assert [u.cumulative for u in carried.units] == [u.cumulative for u in itemized.months[6].units]
