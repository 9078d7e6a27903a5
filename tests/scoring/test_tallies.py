"""A month scored from tallies: the earlier months' plain drafts as counts give the very same scores.

A province sends 100,000 drafts a year; `scores --month` needs the earlier months only for the
cumulative score, so the daemon hands their plain drafts in as records.DraftTally. Here a random
year of a small bureau (co-authors across units, articles, column items, adoptions revoked and
re-entered, office entries, solicitations, imported history, drafts of unconfigured senders) is
scored both ways, every month, under profiles that change mid-year and deduct for quotas.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from scoring.calendar import WorkCalendar
from scoring.context import Ledger
from scoring.engine import score_month, score_year
from scoring.periods import SHANGHAI, Period, day_of, month, parse_month
from scoring.profile import Profile
from scoring.profile_toml import parse_profile
from scoring.quota import counted_span, month_quota, week_quota, weeks_in_month
from scoring.records import (
    AdoptionRecord,
    AuthorRecord,
    DraftTally,
    HistoryRecord,
    OfficeEntry,
    ResponseRecord,
    SolicitationRecord,
    SubmissionRecord,
    UnitRecord,
)
from tests.scoring.builders import EXAMPLE, PANJIN, at, draft

UNITS = (
    UnitRecord("危化科", "department", 1),
    UnitRecord("综合行政执法队", "department", 2),
    UnitRecord("盘山县应急管理局", "county", 3),
    UnitRecord("宣教科", "department", 4),
    UnitRecord("法规科", "department", 5),
    UnitRecord("局办公室", "department", 6),
)
SENDERS = [u.name for u in UNITS] + ["市消防支队", None]  # an unconfigured and an unknown sender
AUTHOR_UNITS = [u.name for u in UNITS] + ["市消防支队", None]
NAMES = ("王强", "李明", "赵敏", "李娜", "刘洋", "陈静")
CATEGORIES = ["regular"] * 12 + ["research", "experience", "动态要闻", "通知公告", "部门文件", "新闻时事"]
CHANNELS = ("市委盘锦信息", "市政府政务信息", "省级", "国家级", "内部简报")
KINDS = ("solicitation", "leader_instruction", "typos", "late", "column_missing", "unknown_item")

# Panjin's rules, then from 1 July a county bureau owes two drafts a week, missing ones cost 0.5,
# extra ones earn 0.1, and the province pays 4: quotas and versions both see tallied drafts.
STRICT = parse_profile(
    """
name = "strict"
title = "测试用计分规则"

[[versions]]
effective_from = 2025-01-01
combine = "max"
split_authors = true

[versions.draft]
points = 0.3

[versions.channels."市委盘锦信息"]
level = "municipal"
points = 1

[versions.channels."市政府政务信息"]
level = "municipal"
points = 1

[versions.channels."省级"]
level = "provincial"
points = 3

[versions.quota.week]
required = 1
per_missing = -0.5
max_deduction = 2

[versions.quota.month]
required = 4
per_missing = -1
per_extra = 0.1
max_bonus = 1

[versions.articles.research]
tag = "调研"
label = "调研类信息"
min_chars = 2000
points = 1
adopted_points = 2
adopted_by = ["市政府政务信息"]
required_per_year = 1
per_missing = -1

[versions.items.leader_instruction]
label = "领导批示"
type = "bonus"
points = 3

[versions.items.late]
label = "迟报"
type = "deduction"
points = 0.5

[versions.columns]
"动态要闻" = { channel = "website", cycle = "daily", units = ["宣教科"], points = 0.3, per_missing = -0.3 }
"通知公告" = { channel = "website", cycle = "weekly", units = ["department"], points = 0.3, per_missing = -0.3 }
"部门文件" = { channel = "website", cycle = "monthly", units = ["法规科", "局办公室"], points = 0.5, per_missing = -0.5 }

[[versions]]
effective_from = 2025-07-01
split_authors = false

[versions.channels."省级"]
points = 4

[versions.groups.county]
quota.week = { required = 2 }
""",
    source="strict",
)


def random_year(seed: int, drafts: int = 360) -> dict[str, tuple[object, ...]]:
    """A bureau's 2025 (and a December 2024 draft or two adopted in 2025), as the daemon hands it in."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible ledger, not a secret)
    start = datetime(2024, 12, 20, tzinfo=SHANGHAI)
    subs = []
    for i in range(1, drafts + 1):
        received = start + timedelta(seconds=rng.randrange(380 * 86400))
        # Some drafts arrive exactly at midnight, on the edge of a day, week and month.
        if rng.random() < 0.05:
            received = received.replace(hour=0, minute=0, second=0, microsecond=0)
        authors = tuple(
            AuthorRecord(rng.choice(NAMES), rng.choice(AUTHOR_UNITS))
            for _ in range(rng.choice((0, 1, 1, 1, 2, 3)))
        )
        subs.append(
            SubmissionRecord(
                id=i,
                unit=rng.choice(SENDERS[:6] * 6 + SENDERS[6:]),
                title=f"稿件{i}",
                received_at=received,
                status=rng.choice(["accepted"] * 8 + ["rejected", "duplicate"]),
                category=rng.choice(CATEGORIES),
                chars=rng.choice((800, 1500, 2400)),
                authors=authors,
            )
        )
    adoptions = []
    for n, sub in enumerate(rng.sample(subs, drafts // 5), 1):
        when = sub.received_at + timedelta(days=rng.randrange(1, 40))
        revoked = when + timedelta(days=3) if rng.random() < 0.15 else None
        adoptions.append(AdoptionRecord(n, sub.id, rng.choice(CHANNELS), when, revoked))
        if rng.random() < 0.3:  # a second channel, or the same one entered again
            adoptions.append(
                AdoptionRecord(
                    n + 1000, sub.id, rng.choice(CHANNELS), when + timedelta(days=rng.randrange(5))
                )
            )
    entries = []
    for n in range(1, 30):
        on_draft = rng.random() < 0.6
        sub = rng.choice(subs)
        entries.append(
            OfficeEntry(
                id=n,
                kind=rng.choice(KINDS),
                period=date(2025, rng.randrange(1, 13), rng.randrange(1, 29)),
                unit=None if on_draft else rng.choice(SENDERS),
                submission_id=sub.id if on_draft else None,
                person=rng.choice((None, None, *NAMES)),
                points=rng.choice((None, Decimal("1"), Decimal("2.5"), Decimal("-0.5"))),
                note=rng.choice(("", "错别字2处")),
            )
        )
    solicitations = tuple(
        SolicitationRecord(
            n, f"主题{n}", date(2025, rng.randrange(1, 13), 15), tuple(rng.sample(SENDERS[:6], 2))
        )
        for n in range(1, 5)
    )
    responses = tuple(
        ResponseRecord(n, rng.choice(solicitations).id, rng.choice(subs).id, rng.choice((None, 1, 3, 5)))
        for n in range(1, 8)
    )
    history = (HistoryRecord("危化科", date(2025, 1, 1), 4, (("市政府政务信息", 1),), Decimal("2.2")),)
    return {
        "units": UNITS,
        "submissions": tuple(subs),
        "adoptions": tuple(adoptions),
        "entries": tuple(entries),
        "history": history,
        "solicitations": solicitations,
        "responses": responses,
    }


def split_for(year: dict[str, tuple[object, ...]], scored: Period, profile: Profile) -> dict[str, object]:
    """What daemon/records_io.load_month_records hands in: records, and the rest as tallies."""
    rule_sets = [r for v in profile.versions for r in (v.default, *(g for _, g in v.groups))]
    special = {a.category for r in rule_sets for a in r.articles} | {
        c.name for r in rule_sets for c in r.columns
    }
    linked = {a.submission_id for a in year["adoptions"]}  # type: ignore[attr-defined]
    linked |= {e.submission_id for e in year["entries"] if e.submission_id}  # type: ignore[attr-defined]
    linked |= {r.submission_id for r in year["responses"]}  # type: ignore[attr-defined]
    first, last = day_of(counted_span(profile, 2025).start), day_of(scored.end) + timedelta(days=7)
    kept, counts = [], Counter[tuple[str | None, date, tuple[str | None, ...]]]()
    for sub in year["submissions"]:
        assert isinstance(sub, SubmissionRecord)
        day = day_of(sub.received_at)
        plain = sub.status == "accepted" and sub.category not in special and sub.id not in linked
        if day_of(scored.start) <= day < day_of(scored.end) or not plain:
            kept.append(sub)
        elif first <= day < last:
            counts[(sub.unit, day, tuple(a.unit for a in sub.authors))] += 1
    tallies = tuple(DraftTally(unit, day, authors, n) for (unit, day, authors), n in counts.items())
    return {**year, "submissions": tuple(kept), "tallies": tallies}


CALENDAR = WorkCalendar()
NOW = datetime(2026, 1, 10, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("seed", "profile", "columns_from"),
    [(1, PANJIN, date(2025, 3, 1)), (2, STRICT, date(2025, 1, 1)), (3, STRICT, None), (4, PANJIN, None)],
)
def test_every_month_scores_the_same_from_tallies(
    seed: int, profile: Profile, columns_from: date | None
) -> None:
    """A random year, every month: tallying the other months' plain drafts changes nothing at all,
    not a line, a note, a person, a warning or a cumulative score."""
    year = random_year(seed)
    for number in range(1, 13):
        scored = month(2025, number)
        common = {"profile": profile, "calendar": CALENDAR, "now": NOW, "columns_from": columns_from}
        whole = score_month(month=scored, **year, **common)  # type: ignore[arg-type]
        split = split_for(year, scored, profile)
        assert split["tallies"] or scored.end <= counted_span(profile, 2025).start, "plain drafts to tally"
        assert score_month(month=scored, **split, **common) == whole, scored.label  # type: ignore[arg-type]


def test_a_month_not_over_scores_the_same_from_tallies() -> None:
    """The weekly reminder scores the running month as of now: weeks not yet over stay unjudged."""
    year = random_year(5)
    now = datetime(2025, 9, 17, 15, tzinfo=SHANGHAI)
    scored = parse_month("2025-09")
    common = {"profile": PANJIN, "calendar": CALENDAR, "now": now, "columns_from": date(2025, 1, 1)}
    whole = score_month(month=scored, **year, **common)  # type: ignore[arg-type]
    assert score_month(month=scored, **split_for(year, scored, PANJIN), **common) == whole  # type: ignore[arg-type]


def test_the_quota_reports_count_tallies_like_drafts() -> None:
    """The notice's shortfalls recount weeks that begin in the month before: tallies count there."""
    year = random_year(6)
    scored = parse_month("2025-09")  # W36 (1–7 September) and W40 (29 September – 5 October)
    split = split_for(year, scored, PANJIN)
    for period, report in [(scored, month_quota), *((w, week_quota) for w in weeks_in_month(scored))]:
        kwargs = {"units": UNITS, "profile": PANJIN, "calendar": CALENDAR}
        whole = report(
            **{"week" if report is week_quota else "month": period}, submissions=year["submissions"], **kwargs
        )  # type: ignore[operator, arg-type]
        tallied = report(  # type: ignore[operator]
            **{"week" if report is week_quota else "month": period},
            submissions=split["submissions"],
            tallies=split["tallies"],
            **kwargs,
        )
        assert tallied == whole, period.label


def _june_with(tally: DraftTally, profile: Profile) -> object:
    """June 2025 scored with nothing but `tally`."""
    return score_month(
        month=parse_month("2025-06"),
        units=UNITS,
        submissions=(),
        adoptions=(),
        entries=(),
        history=(),
        profile=profile,
        calendar=CALENDAR,
        tallies=(tally,),
    )


def test_the_scored_month_itself_cannot_be_tallied() -> None:
    """Tallies are for the months summed into `cumulative`; the month shown needs its drafts."""
    tally = DraftTally("危化科", date(2025, 6, 3), ("危化科",), 2)
    with pytest.raises(ValueError, match="2025-06"):
        _june_with(tally, PANJIN)


def test_a_capped_profile_refuses_tallies() -> None:
    """A cap takes drafts in the order received (the draft reaching it scores the rest), which a
    count does not keep: the engine refuses rather than guess, and the daemon loads records."""
    tally = DraftTally("危化科", date(2025, 5, 6), ("危化科",), 12)
    with pytest.raises(ValueError, match="capped"):
        _june_with(tally, EXAMPLE)


def test_tallies_count_whole_days_only() -> None:
    """A tally is a day's drafts: counting it into a period that starts at noon would be a guess."""
    ledger = Ledger(
        UNITS,
        (draft(1, "危化科", "2025-06-03"),),
        (),
        (),
        tallies=(DraftTally("危化科", date(2025, 6, 3), (), 2),),
    )
    assert ledger.count(parse_month("2025-06"), "危化科") == 3
    assert ledger.count(parse_month("2025-06")) == 3
    assert ledger.count(parse_month("2025-07"), "危化科") == 0
    noon = Period("", at("2025-06-03", 12), at("2025-06-10", 12))
    with pytest.raises(ValueError, match="midnight"):
        ledger.count(noon, "危化科")


def test_a_year_is_not_scored_from_tallies() -> None:
    """score_year shows every month in full: it takes records only (no `tallies` argument)."""
    year = random_year(7, drafts=60)
    result = score_year(year=2025, profile=PANJIN, calendar=CALENDAR, now=NOW, **year)  # type: ignore[arg-type]
    assert [m.month.label for m in result.months][-1] == "2025-12"
    with pytest.raises(TypeError):
        score_year(year=2025, profile=PANJIN, calendar=CALENDAR, tallies=(), **year)  # type: ignore[arg-type, call-arg]


def test_a_tallied_cross_unit_draft_credits_the_coauthors_unit() -> None:
    """May's tally of two drafts by 王强 (危化科) and 赵敏 (执法队): each unit's cumulative in June
    holds its half, 0.15 a draft, as if the drafts were there."""
    may = [
        replace(draft(i, "危化科", "2025-05-06", ("王强", "危化科"), ("赵敏", "综合行政执法队")), id=i)
        for i in (1, 2)
    ]
    common = {
        "month": parse_month("2025-06"),
        "units": UNITS,
        "adoptions": (),
        "entries": (),
        "history": (),
        "profile": PANJIN,
        "calendar": CALENDAR,
    }
    whole = score_month(submissions=may, **common)  # type: ignore[arg-type]
    tally = DraftTally("危化科", date(2025, 5, 6), ("危化科", "综合行政执法队"), 2)
    tallied = score_month(submissions=(), tallies=(tally,), **common)  # type: ignore[arg-type]
    assert tallied == whole
    assert tallied.unit("综合行政执法队").cumulative == Decimal("0.3")
