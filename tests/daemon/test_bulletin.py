"""Adoptions from the office's emailed bulletin, and the reply it gets, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from daemon.bulletin import bulletin_reply, handle_bulletin
from daemon.db import session
from daemon.models import Adoption
from tests.daemon.adoption_cases import NOW, drafts, standing
from tests.daemon.test_scores_cli import Bureau, make_bureau

SUBJECT = "【采用】2025年6月市政府政务信息采用情况"


@pytest.fixture
def bureau(engine: Engine, db_url: str, tmp_path: Path) -> Bureau:
    return make_bureau(engine, db_url, tmp_path)


BULLETIN = [
    "2025年6月市政府《政务信息》采用稿件：",
    "1、危化科开展汛期危险化学品企业专项检查（危化科）",
    "2、我市完成首批危化品企业安全风险评估工作",
    "3、盘山县开展防汛应急演练",
    "4、盘山县开展防汛应急演练（盘山县应急局）",
    "5、组织开展安全生产月宣传活动",
    "6、关于进一步加强森林草原防灭火工作的通知",
    "",
    "省级采用：",
    "《我市完成首批危化品企业安全风险评估》",
]


def test_the_bulletin_matching_table(bureau: Bureau) -> None:
    """The office mails June's bulletin: each line is matched, found ambiguous, or not found."""
    ids = drafts(bureau)
    with session(bureau.engine) as s:
        result = handle_bulletin(
            s, bureau.config, BULLETIN, now=NOW, subject=SUBJECT, sender="office@pjyjj.example.cn"
        )
    assert result.channel is not None
    assert result.channel.name == "市政府政务信息"
    matched = [(m.line, m.submission.id, m.channel, m.created) for m in result.matched]
    assert matched == [
        (BULLETIN[1], ids["inspection"], "市政府《政务信息》", True),  # the unit in brackets
        (BULLETIN[2], ids["assessment"], "市政府《政务信息》", True),  # an edited title, matched fuzzily
        (BULLETIN[4], ids["drill_county"], "市政府《政务信息》", True),  # the unit's alias decides
        (BULLETIN[9], ids["assessment"], "省级", True),  # the heading switched the channel
    ]
    ambiguous = [(a.line, [c.id for c in a.candidates]) for a in result.ambiguous]
    assert ambiguous == [
        (BULLETIN[3], [ids["drill_county"], ids["drill_team"]]),  # one title, two units
        (BULLETIN[5], [ids["month_county"], ids["month_team"]]),  # two titles equally close
    ]
    assert [(u.line, u.reason) for u in result.unmatched] == [(BULLETIN[6], "没有找到标题相近的稿件")]
    assert result.recorded == 4
    assert standing(bureau.engine) == [
        (ids["inspection"], "市政府政务信息"),
        (ids["assessment"], "市政府政务信息"),
        (ids["drill_county"], "市政府政务信息"),
        (ids["assessment"], "省级"),
    ]
    with session(bureau.engine, readonly=True) as s:
        first = s.exec(select(Adoption).order_by(col(Adoption.id))).first()
    assert first is not None
    assert first.adopted_at == NOW
    assert first.created_by == "bulletin:office@pjyjj.example.cn"


def test_the_same_bulletin_twice_records_nothing_new(bureau: Bureau) -> None:
    """The office's mail client sends the bulletin twice: the second one changes no score."""
    drafts(bureau)
    with session(bureau.engine) as s:
        handle_bulletin(s, bureau.config, BULLETIN, now=NOW, subject=SUBJECT)
    before = standing(bureau.engine)
    with session(bureau.engine) as s:
        again = handle_bulletin(s, bureau.config, BULLETIN, now=NOW, subject=SUBJECT)
    assert again.recorded == 0
    assert len(again.matched) == 4
    assert not any(m.created for m in again.matched)
    assert standing(bureau.engine) == before


def test_a_bulletin_without_a_channel_records_nothing(bureau: Bureau) -> None:
    """A bulletin that names no channel cannot be scored: every line says why, nothing is recorded."""
    drafts(bureau)
    lines = ["危化科开展汛期危险化学品企业专项检查（危化科）"]
    with session(bureau.engine) as s:
        result = handle_bulletin(s, bureau.config, lines, now=NOW, subject="【采用】6月份情况")
    assert result.channel is None
    assert result.recorded == 0
    assert [u.reason for u in result.unmatched] == [
        "未能确定采用渠道（请在主题或通报中注明，如“市政府政务信息”）"
    ]
    assert standing(bureau.engine) == []
    with session(bureau.engine) as s:
        named = handle_bulletin(s, bureau.config, lines, now=NOW, channel="市委盘锦信息")
    assert [m.channel for m in named.matched] == ["市委《盘锦信息》"]


def test_the_reply_lists_every_line(bureau: Bureau) -> None:
    """The office's reply names what was recorded, what needs a decision, and what was not found."""
    ids = drafts(bureau)
    with session(bureau.engine) as s:
        result = handle_bulletin(s, bureau.config, BULLETIN, now=NOW, subject=SUBJECT)
    reply = bulletin_reply(result, config=bureau.config, subject=SUBJECT, now=NOW)
    assert reply.subject == "【采用登记】已匹配4条，待确认2条，未匹配1条"
    text = reply.text
    assert "盘锦市应急管理局办公室：" in text
    assert f"收到采用通报“{SUBJECT}”，采用渠道：市政府《政务信息》" in text
    assert "新登记采用 4 条" in text
    assert (
        f"→ 稿件 #{ids['inspection']}《危化科开展汛期危险化学品企业专项检查》（危化科），市政府《政务信息》"
        in text
    )
    assert "二、有多篇相近稿件，未登记，请确认（2 条）" in text
    assert (
        f"可能是：稿件 #{ids['drill_team']}《盘山县开展防汛应急演练》（综合行政执法队，2025年6月11日）"
        in text
    )
    assert "三、未匹配（1 条）" in text
    assert "“6、关于进一步加强森林草原防灭火工作的通知”：没有找到标题相近的稿件" in text
    assert text.rstrip().endswith("2025年7月2日")
    assert reply.html is not None
    assert "<table" in reply.html
    assert "盘山县开展防汛应急演练" in reply.html
    with session(bureau.engine) as s:
        again = handle_bulletin(s, bureau.config, BULLETIN, now=NOW, subject=SUBJECT)
    assert (
        "此前已登记，未重复计分" in bulletin_reply(again, config=bureau.config, subject=SUBJECT, now=NOW).text
    )
