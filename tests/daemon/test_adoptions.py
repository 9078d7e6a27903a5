"""Adoptions by id, by spreadsheet (.csv, .xlsx) and by the office's emailed bulletin, on both backends."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from daemon.adoptions import AdoptionError, adopt, bulletin_reply, handle_bulletin, revoke
from daemon.db import session
from daemon.models import Adoption
from tests.daemon.test_scores_cli import Bureau, june, make_bureau

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 7, 2, 9, 0, tzinfo=CST)  # the June bulletin arrives on 2 July
SUBJECT = "【采用】2025年6月市政府政务信息采用情况"


@pytest.fixture
def bureau(engine: Engine, db_url: str, tmp_path: Path) -> Bureau:
    return make_bureau(engine, db_url, tmp_path)


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
    with session(engine, readonly=True) as s:
        rows = s.exec(select(Adoption).where(col(Adoption.revoked_at).is_(None)).order_by(col(Adoption.id)))
        return [(a.submission_id, a.channel) for a in rows]


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


def test_revoking_one_of_two_adoptions_needs_the_channel(bureau: Bureau) -> None:
    """A draft taken by the city and the province: revoking asks which, then keeps the other."""
    ids = drafts(bureau)
    with session(bureau.engine) as s:
        for channel in ("市政府政务信息", "省级"):
            adopt(s, bureau.config, submission_id=ids["assessment"], channel=channel, adopted_at=NOW, now=NOW)
    with session(bureau.engine) as s, pytest.raises(AdoptionError, match="请用 --channel 指定撤销哪一条"):
        revoke(s, submission_id=ids["assessment"], now=NOW)
    with session(bureau.engine) as s:
        revoked = revoke(s, submission_id=ids["assessment"], level="provincial", now=NOW)
    assert [a.channel for a in revoked] == ["省级"]
    assert standing(bureau.engine) == [(ids["assessment"], "市政府政务信息")]
    with session(bureau.engine) as s:
        again = adopt(
            s, bureau.config, submission_id=ids["assessment"], level="省级", adopted_at=NOW, now=NOW
        )
    assert again.created
    with session(bureau.engine, readonly=True) as s:
        assert len(s.exec(select(Adoption)).all()) == 3  # the revoked row is kept


def test_import_csv_by_id_and_by_title(bureau: Bureau, tmp_path: Path) -> None:
    """The office keeps June's adoptions in a CSV from Excel (GB18030): ids, titles, an ambiguous row."""
    ids = drafts(bureau)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(
        [
            ["编号", "标题", "单位", "渠道", "采用日期"],
            [ids["inspection"], "", "", "市政府政务信息", "2025-06-20"],
            ["", "我市完成首批危化品企业安全风险评估工作", "", "省级", "2025/6/27"],
            ["", "盘山县开展防汛应急演练", "综合行政执法队", "市委盘锦信息", "2025年6月30日"],
            ["", "组织开展安全生产月宣传活动", "", "市委盘锦信息", ""],
            ["", "全市应急管理系统年中工作会议召开", "", "市委盘锦信息", ""],
            ["9999", "", "", "省级", ""],
        ]
    )
    path = tmp_path / "6月采用.csv"
    path.write_bytes(buffer.getvalue().encode("gb18030"))
    out = bureau.ok("adopt", "import", str(path), "--date", "2025-06-30")  # for rows without a date
    assert f"已登记：第2行：#{ids['inspection']} → 稿件 #{ids['inspection']}" in out
    assert f"已登记：第3行：我市完成首批危化品企业安全风险评估工作 → 稿件 #{ids['assessment']}" in out
    assert f"已登记：第4行：盘山县开展防汛应急演练 → 稿件 #{ids['drill_team']}" in out
    assert "待确认：第5行：组织开展安全生产月宣传活动 → 可能是" in out
    assert "未匹配：第6行：全市应急管理系统年中工作会议召开：没有找到标题相近的稿件" in out
    assert "未匹配：第7行：#9999：没有编号为 9999 的稿件" in out
    assert "新登记 3 条；已匹配 3 条，待确认 1 条，未匹配 2 条" in out
    assert standing(bureau.engine) == [
        (ids["inspection"], "市政府政务信息"),
        (ids["assessment"], "省级"),
        (ids["drill_team"], "市委盘锦信息"),
    ]
    with session(bureau.engine, readonly=True) as s:
        dates = [a.adopted_at.astimezone(CST).date().isoformat() for a in s.exec(select(Adoption))]
    assert dates == ["2025-06-20", "2025-06-27", "2025-06-30"]
    assert "新登记 0 条；已匹配 3 条" in bureau.ok("adopt", "import", str(path), "--date", "2025-06-30")
    hazchem = bureau.json("scores", "--month", "2025-06")["units"][0]
    assert {x["rule"] for x in hazchem["lines"] if x["rule"].startswith("adoption")} == {
        "adoption:市政府政务信息",
        "adoption:省级",
    }


def test_import_xlsx_with_levels_and_dates(bureau: Bureau, tmp_path: Path) -> None:
    """An .xlsx with a title row, Chinese levels and Excel dates; 市级 alone cannot pick a channel."""
    ids = drafts(bureau)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2025年6月信息采用情况统计"])
    sheet.append(["序号", "稿件标题", "报送单位", "采用级别", "采用日期"])
    sheet.append([1, "危化科开展汛期危险化学品企业专项检查", "危化科", "省级", datetime(2025, 6, 25)])
    sheet.append([2, "盘山县开展防汛应急演练", "盘山县应急管理局", "国家级", datetime(2025, 6, 28)])
    sheet.append([3, "我市完成首批危化品企业安全风险评估", "", "市级", datetime(2025, 6, 28)])
    path = tmp_path / "采用统计.xlsx"
    book.save(path)
    out = bureau.ok("adopt", "import", str(path))
    assert "新登记 2 条；已匹配 2 条，待确认 0 条，未匹配 1 条" in out
    assert "级别“municipal”有多个采用渠道" in out
    assert standing(bureau.engine) == [(ids["inspection"], "省级"), (ids["drill_county"], "国家级")]
    county = bureau.json("scores", "--month", "2025-06")["units"][1]
    national = [x for x in county["lines"] if x["rule"] == "adoption:国家级"]
    assert [(x["points"], x["person"]) for x in national] == [(5, "李娜")]


def test_import_needs_an_id_or_title_column(bureau: Bureau, tmp_path: Path) -> None:
    """A sheet without 编号 or 标题 is refused with exit 1, in Chinese."""
    path = tmp_path / "wrong.csv"
    path.write_text("单位,得分\n危化科,1\n", encoding="utf-8")
    result = bureau.run("adopt", "import", str(path))
    assert result.exit_code == 1
    assert "表格中没有表头行" in result.stderr
    missing = bureau.run("adopt", "import", str(tmp_path / "none.xlsx"))
    assert missing.exit_code == 1
    assert "找不到文件" in missing.stderr
