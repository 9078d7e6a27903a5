"""A small Panjin's June 2025, built by hand, and the notice the office issues for it on 1 July.

危化科 is docs/scoring.md's worked example (5 drafts, draft 103 adopted by the city and the
province, a solicitation scored 2, nothing in W26); 宣教科 sends a draft every week; 综合行政执法队
only co-writes one of 危化科's; 盘山县应急管理局 sends nothing at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from outbox.notice import Notice, Order, build_notice
from outbox.notice_xlsx import changes, snapshot
from scoring.calendar import WorkCalendar
from scoring.records import AdoptionRecord, SubmissionRecord
from tests.scoring.builders import PANJIN, adopt, at, draft, entry, history, month

W, L, Z = ("王强", "危化科"), ("李明", "危化科"), ("赵敏", "综合行政执法队")
TITLE = "关于2025年6月份政务信息报送及采用情况的通报"
ADOPTED = "我市完成首批危化品企业安全风险评估"
UNIT_NAMES = ("危化科", "综合行政执法队", "盘山县应急管理局", "宣教科")


def june_records() -> tuple[list[SubmissionRecord], list[AdoptionRecord]]:
    subs = [
        draft(101, "危化科", "2025-06-03", W, title="危化科开展汛期危险化学品企业专项检查"),
        draft(102, "危化科", "2025-06-05", W, L, Z, title="危化科联合执法队夜查油气储存企业"),
        draft(103, "危化科", "2025-06-12", L, title=ADOPTED),
        draft(104, "危化科", "2025-06-13", W, title="危化科组织重点企业应急演练观摩"),
        draft(
            105,
            "危化科",
            "2025-06-18",
            W,
            title="关于我市危化品重大危险源管控情况的调研",
            category="research",
            chars=2650,
        ),
        draft(106, "危化科", "2025-06-19", W, title="危化科召开安全生产月推进会", status="rejected"),
        *(
            draft(200 + n, "宣教科", day, ("刘洋", "宣教科"), title=f"宣教科开展安全生产月宣传活动（{n}）")
            for n, day in enumerate(("2025-06-04", "2025-06-11", "2025-06-17", "2025-06-24", "2025-06-26"), 1)
        ),
    ]
    adoptions = [adopt(1, 103, "市政府政务信息", "2025-06-20"), adopt(2, 103, "省级", "2025-06-27")]
    return subs, adoptions


def june_notice(
    *,
    adoptions: Sequence[AdoptionRecord] | None = None,
    order: Order = "config",
    praise: int = 3,
) -> Notice:
    """The notice of June 2025 as issued on 1 July (the month's quotas all judged)."""
    subs, standing = june_records()
    chosen = standing if adoptions is None else list(adoptions)
    scores = month(
        "2025-06",
        subs=subs,
        adoptions=chosen,
        entries=[entry(1, "solicitation", "2025-06-30", submission_id=104, points="2")],
        past=[history("危化科", "2025-05", 4, "2.2", 市政府政务信息=1)],
    )
    return build_notice(
        scores=scores,
        submissions=subs,
        adoptions=chosen,
        profile=PANJIN,
        calendar=WorkCalendar(),
        bureau="盘锦市应急管理局",
        office="盘锦市应急管理局办公室",
        issued=date(2025, 7, 1),
        now=at("2025-07-01", 9),
        order=order,
        praise=praise,
    )


def june_correction() -> Notice:
    """The province withdrew its adoption of draft 103: the first correction, issued 8 July."""
    before = june_notice()
    _, standing = june_records()
    revoked = [standing[0], replace(standing[1], revoked_at=at("2025-07-07"))]
    after = replace(
        june_notice(adoptions=revoked), issued=date(2025, 7, 8), correction=1, corrects=before.issued
    )
    return replace(after, changes=changes(snapshot(before), after))
