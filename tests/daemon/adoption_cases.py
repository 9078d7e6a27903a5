"""The office's June for adoption tests: six drafts from three units, and the adoptions that stand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from daemon.db import session
from daemon.models import Adoption
from tests.daemon.test_scores_cli import Bureau, june

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 7, 2, 9, 0, tzinfo=CST)  # the June bulletin arrives on 2 July


def drafts(b: Bureau) -> dict[str, int]:
    """June's drafts: two from 危化科, a title sent by two units, and two near-identical titles."""
    return {
        "inspection": b.draft(
            "危化科", "危化科开展汛期危险化学品企业专项检查", june(3), [("王强", "危化科")]
        ),
        "assessment": b.draft("危化科", "我市完成首批危化品企业安全风险评估", june(12), [("李明", "危化科")]),
        "drill_county": b.draft(
            "盘山县应急管理局", "盘山县开展防汛应急演练", june(10), [("李娜", "盘山县应急管理局")]
        ),
        "drill_team": b.draft(
            "综合行政执法队", "盘山县开展防汛应急演练", june(11), [("赵敏", "综合行政执法队")]
        ),
        "month_county": b.draft("盘山县应急管理局", "盘山县组织开展安全生产月宣传活动", june(16)),
        "month_team": b.draft("综合行政执法队", "执法队组织开展安全生产月宣传活动", june(17)),
    }


def standing(engine: Engine) -> list[tuple[int, str]]:
    """The adoptions that stand (not revoked) as (draft, channel), in the order recorded."""
    with session(engine, readonly=True) as s:
        rows = s.exec(select(Adoption).where(col(Adoption.revoked_at).is_(None)).order_by(col(Adoption.id)))
        return [(a.submission_id, a.channel) for a in rows]
