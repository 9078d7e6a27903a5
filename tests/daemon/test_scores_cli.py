"""`xinbao scores`, `quota`, `adopt` and `entry` on a ledger built in code, on SQLite and PostgreSQL.

The bureau here is a small Panjin: 危化科 and 综合行政执法队 (departments) and 盘山县应急管理局
(a county bureau). Its June 2025 is the worked example of docs/scoring.md in short.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner, Result

from daemon import ledger
from daemon.cli import app
from daemon.config import Config, ConfigError, load_config
from daemon.db import session
from daemon.models import (
    Adoption,
    Message,
    MessageState,
    Submission,
    SubmissionAuthor,
    SubmissionStatus,
    Unit,
)
from daemon.models_scoring import Entry, History, Solicitation, SolicitationResponse
from daemon.records_io import Records, load_month_records, load_records
from daemon.scoring_io import articles, load_calendar, load_profile, quotas, year_period
from scoring.engine import score_month
from scoring.periods import parse_month, parse_week

CST = ZoneInfo("Asia/Shanghai")
CONFIG = """
[database]
url = "{url}"

[office]
name = "盘锦市应急管理局办公室"
emails = ["office@pjyjj.example.cn"]

[[units]]
name = "危化科"
group = "department"
aliases = ["危险化学品安全监督管理科"]

[[units]]
name = "盘山县应急管理局"
group = "county"
aliases = ["盘山县应急局"]

[[units]]
name = "综合行政执法队"
group = "department"
aliases = ["执法支队"]

[[publicists]]
unit = "危化科"
name = "王强"
email = "wangqiang.wh@163.com"

[[publicists]]
unit = "盘山县应急管理局"
name = "李娜"
email = "psxyjj_xx@163.com"
"""
UNIT_NAMES = ["危化科", "盘山县应急管理局", "综合行政执法队"]


def june(day: int, hour: int = 9) -> datetime:
    return datetime(2025, 6, day, hour, 30, tzinfo=CST)


def _acknowledged(account: str, uidvalidity: int, uid: int, content: str, received: datetime) -> Message:
    """A mailbox message already recorded and flagged, as the drafts' rows need one."""
    return Message(
        account=account,
        folder="INBOX",
        uidvalidity=uidvalidity,
        uid=uid,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        size=4096,
        internaldate=received,
        state=MessageState.ACKNOWLEDGED,
        created_at=received,
        updated_at=received,
    )


@dataclass
class Bureau:
    """The ledger and config of one test, with a way to add drafts and to run `xinbao`."""

    engine: Engine
    config: Config
    path: Path
    uids: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))

    def draft(
        self,
        unit: str,
        title: str,
        received: datetime,
        authors: Sequence[tuple[str, str]] = (),
        *,
        status: SubmissionStatus = SubmissionStatus.ACCEPTED,
        category: str = "regular",
        chars: int = 900,
    ) -> int:
        """A draft as the pipeline records it (one message each); returns its submission id."""
        uid = next(self.uids)
        with session(self.engine) as s:
            units = {u.name: u.id for u in s.exec(select(Unit))}
            msg = _acknowledged("pjyjjbgs@163.com", 1, uid, f"{uid}{title}", received)
            s.add(msg)
            s.flush()
            assert msg.id is not None
            sub = Submission(
                message_row_id=msg.id,
                unit_id=units.get(unit),
                sender="wangqiang.wh@163.com",
                title=title,
                text_hash=hashlib.sha256(title.encode()).hexdigest(),
                chars=chars,
                status=status,
                category=category,
                source=f"{title}.docx",
                received_at=received,
                created_at=received,
            )
            s.add(sub)
            s.flush()
            assert sub.id is not None
            for i, (name, author_unit) in enumerate(authors):
                s.add(
                    SubmissionAuthor(
                        submission_id=sub.id,
                        position=i,
                        name=name,
                        unit_text=author_unit,
                        unit_id=units.get(author_unit),
                    )
                )
            return sub.id

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["--config", str(self.path), *args])

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))


def make_bureau(engine: Engine, db_url: str, tmp_path: Path, extra: str = "") -> Bureau:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(url=db_url) + extra, encoding="utf-8")
    config = load_config(path)
    with session(engine) as s:
        ledger.sync_units(s, config.units, config.publicists)
    return Bureau(engine, config, path)


@pytest.fixture
def bureau(engine: Engine, db_url: str, tmp_path: Path) -> Bureau:
    return make_bureau(engine, db_url, tmp_path)


def june_ledger(b: Bureau) -> dict[str, int]:
    """危化科's June: a draft a week except W26, one co-written with 执法队, one research article."""
    return {
        "inspection": b.draft(
            "危化科", "危化科开展汛期危险化学品企业专项检查", june(3), [("王强", "危化科")]
        ),
        "joint": b.draft(
            "危化科",
            "危化科联合执法队夜查油气储存企业",
            june(5),
            [("王强", "危化科"), ("李明", "危化科"), ("赵敏", "综合行政执法队")],
        ),
        "assessment": b.draft("危化科", "我市完成首批危化品企业安全风险评估", june(12), [("李明", "危化科")]),
        "research": b.draft(
            "危化科",
            "关于我市危化品重大危险源管控情况的调研",
            june(18),
            [("王强", "危化科")],
            category="research",
            chars=2650,
        ),
        "rejected": b.draft(
            "危化科",
            "危化科开展安全生产月宣传活动",
            june(19),
            [("王强", "危化科")],
            status=SubmissionStatus.REJECTED,
        ),
    }


def points(values: Sequence[float]) -> Decimal:
    return sum((Decimal(str(v)) for v in values), Decimal(0))


def test_month_json_lists_every_unit_and_explains_each_point(bureau: Bureau) -> None:
    """The office asks for June: every unit is listed (the county bureau that sent nothing too),
    each score is the sum of its lines, and each line names its rule, draft and author."""
    ids = june_ledger(bureau)
    out = bureau.json("scores", "--month", "2025-06")
    assert out["month"] == "2025-06"
    assert [u["unit"] for u in out["units"]] == UNIT_NAMES
    assert "people" not in out
    for u in out["units"]:
        assert Decimal(str(u["score"])) == points([line["points"] for line in u["lines"]]), u["unit"]
    hazchem, county, enforcement = out["units"]
    assert hazchem["submitted"] == 4
    assert Decimal(str(hazchem["score"])) == Decimal("1.8")  # 0.3 + 0.1 + 0.1 + 0.3 + 1
    first = next(line for line in hazchem["lines"] if line["submission_id"] == ids["inspection"])
    assert first["rule"] == "draft"
    assert first["person"] == "王强"
    assert "危化科开展汛期危险化学品企业专项检查" in first["note"]
    assert {"rule", "points", "submission_id", "note"} <= set(first)
    assert not [line for line in hazchem["lines"] if line["submission_id"] == ids["rejected"]]
    assert [line["rule"] for line in hazchem["lines"] if line["submission_id"] is None] == ["quota:week"]
    assert county["submitted"] == 0
    assert county["score"] == 0
    assert {line["rule"] for line in county["lines"]} == {"quota:week", "quota:month"}
    shares = [(line["person"], line["points"], line["submission_id"]) for line in enforcement["lines"]]
    assert [share for share in shares if share[0] is not None] == [("赵敏", 0.1, ids["joint"])]
    assert enforcement["submitted"] == 0


def test_year_with_people_ranks_the_authors(bureau: Bureau) -> None:
    """For the year-end 先进个人 ranking the office asks for the year with people: months roll up."""
    june_ledger(bureau)
    bureau.draft(
        "危化科",
        "危化科督导企业落实高温作业防护措施",
        datetime(2025, 7, 8, 10, tzinfo=CST),
        [("李明", "危化科")],
    )
    out = bureau.json("scores", "--year", "2025", "--people")
    assert out["year"] == "2025"
    assert [u["unit"] for u in out["units"]] == UNIT_NAMES
    hazchem = out["units"][0]
    assert {line["rule"] for line in hazchem["lines"]} == {"month"}
    assert Decimal(str(hazchem["score"])) == points([line["points"] for line in hazchem["lines"]])
    people = {(p["name"], p["unit"]): Decimal(str(p["score"])) for p in out["people"]}
    assert people[("王强", "危化科")] == Decimal("1.4")  # 0.3 + 0.1 + 1
    assert people[("李明", "危化科")] == Decimal("0.7")  # 0.1 + 0.3, and July's 0.3
    assert people[("赵敏", "综合行政执法队")] == Decimal("0.1")
    assert out["people"][0]["name"] == "王强"


def test_human_scores_round_to_two_places(bureau: Bureau) -> None:
    """A draft of three authors adopted by the city: each share 0.3334 / 0.3333 shows as 0.33."""
    ids = june_ledger(bureau)
    bureau.ok("adopt", str(ids["joint"]), "--channel", "市政府政务信息", "--date", "2025-06-20")
    text = bureau.ok("scores", "--month", "2025-06", "--unit", "危化科", "--people")
    assert "危化科：本月" in text
    assert "+0.33  [adoption:市政府政务信息]" in text
    assert "盘山县应急管理局" not in text
    assert "个人得分" in text


def test_quota_week_json_has_every_unit(bureau: Bureau) -> None:
    """`quota --week 2025-W25`: five workdays; 危化科 met its one draft, the others are short."""
    june_ledger(bureau)
    out = bureau.json("quota", "--week", "2025-W25")
    assert out["week"] == "2025-W25"
    assert out["workdays"] == 5
    assert [(r["unit"], r["group"], r["submitted"], r["required"], r["short"]) for r in out["units"]] == [
        ("危化科", "department", 1, 1, 0),
        ("盘山县应急管理局", "county", 0, 1, 1),
        ("综合行政执法队", "department", 0, 1, 1),
    ]
    text = bureau.ok("quota", "--week", "2025-W25")
    assert "未完成任务的单位：盘山县应急管理局、综合行政执法队" in text


def _unit(out: dict[str, Any], name: str) -> dict[str, Any]:
    return next(u for u in out["units"] if u["unit"] == name)


def test_adopt_then_revoke_restores_the_scores(bureau: Bureau) -> None:
    """The office records a provincial adoption by mistake and revokes it: June is as before."""
    ids = june_ledger(bureau)
    before = bureau.json("scores", "--month", "2025-06", "--people")
    said = bureau.ok("adopt", str(ids["assessment"]), "--level", "provincial", "--date", "2025-06-27")
    assert "已登记" in said
    assert "计入2025年6月得分" in said
    adopted = bureau.json("scores", "--month", "2025-06", "--people")
    gained = Decimal(str(_unit(adopted, "危化科")["score"])) - Decimal(str(_unit(before, "危化科")["score"]))
    assert gained == 3
    line = next(x for x in _unit(adopted, "危化科")["lines"] if x["rule"] == "adoption:省级")
    assert (line["submission_id"], line["person"]) == (ids["assessment"], "李明")
    again = bureau.ok("adopt", str(ids["assessment"]), "--level", "provincial", "--date", "2025-06-27")
    assert "此前已登记" in again
    assert bureau.json("scores", "--month", "2025-06", "--people") == adopted
    assert "已撤销" in bureau.ok("adopt", "revoke", str(ids["assessment"]))
    assert bureau.json("scores", "--month", "2025-06", "--people") == before


def test_entries_feed_the_month(bureau: Bureau) -> None:
    """The office scores a solicitation 2 and books a late-report deduction for the county bureau."""
    ids = june_ledger(bureau)
    bureau.ok(
        "entry", "add", "--kind", "solicitation", "--submission", str(ids["inspection"]),
        "--points", "2", "--month", "2025-06", "--note", "市政府约稿《汛期安全》",
    )  # fmt: skip
    bureau.ok(
        "entry", "add", "--kind", "late", "--unit", "盘山县应急局", "--points", "0.5", "--month", "2025-06"
    )
    out = bureau.json("scores", "--month", "2025-06")
    solicitation = next(x for x in _unit(out, "危化科")["lines"] if x["rule"] == "entry:solicitation")
    assert (solicitation["points"], solicitation["person"]) == (2, "王强")
    assert "市政府约稿《汛期安全》" in solicitation["note"]
    late = next(x for x in _unit(out, "盘山县应急管理局")["lines"] if x["rule"] == "entry:late")
    assert late["points"] == -0.5
    listed = bureau.json("entry", "list", "--month", "2025-06")
    assert [(e["kind"], e["unit"], e["submission_id"], e["points"]) for e in listed] == [
        ("solicitation", None, ids["inspection"], 2),
        ("late", "盘山县应急管理局", None, 0.5),
    ]
    assert bureau.json("entry", "list", "--month", "2025-07") == []


USER_ERRORS = [
    (["adopt", "999", "--level", "provincial"], "没有编号为 999 的稿件"),
    (["adopt", "{assessment}", "--channel", "人民日报"], "计分规则中没有采用渠道“人民日报”"),
    (["adopt", "{assessment}", "--level", "municipal"], "请用 --channel 指定"),
    (["adopt", "{rejected}", "--level", "provincial"], "不能登记采用"),
    (["adopt", "{assessment}", "--level", "provincial", "--date", "6月20日"], "无法识别的日期"),
    (["adopt", "revoke", "{assessment}"], "没有可撤销的采用记录"),
    (["scores", "--month", "2025-13"], "无法识别的月份：2025-13"),
    (["scores", "--month", "2025-06", "--year", "2025"], "之一"),
    (["scores", "--year", "25"], "无法识别的年份"),
    (["scores", "--month", "2025-06", "--unit", "安监局"], "配置中没有单位“安监局”"),
    (["quota", "--week", "2025-W60"], "无法识别的期间"),
    (["entry", "add", "--kind", "bonus", "--unit", "危化科"], "计分规则中没有计分项目“bonus”"),
    (["entry", "add", "--kind", "solicitation", "--unit", "危化科"], "没有默认分值"),
    (["entry", "add", "--kind", "late", "--unit", "安监局"], "配置中没有单位“安监局”"),
    (["entry", "add", "--kind", "late", "--submission", "999"], "没有编号为 999 的稿件"),
    (["entry", "add", "--kind", "late", "--unit", "危化科", "--points", "0.00001"], "最多四位小数"),
    (["entry", "add", "--kind", "late", "--unit", "危化科", "--submission", "1"], "之一"),
]


def test_user_errors_exit_1_with_a_chinese_message(bureau: Bureau) -> None:
    """A mistyped id, channel, month or item ends with exit 1 and a message the office can act on."""
    ids = june_ledger(bureau)
    for args, message in USER_ERRORS:
        result = bureau.run(*(a.format(**ids) for a in args))
        assert result.exit_code == 1, (args, result.stdout, result.exception)
        assert result.stderr.startswith("错误："), args
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert bureau.json("entry", "list") == []


def test_scores_needs_a_period(bureau: Bureau) -> None:
    """`scores` with neither --month nor --year says what it needs."""
    result = bureau.run("scores")
    assert result.exit_code == 1
    assert "请指定 --month YYYY-MM 或 --year YYYY 之一" in result.stderr


def test_the_profile_comes_from_config(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """A bureau on another profile gets its quotas in receipts and its article tags in the pipeline."""
    default = make_bureau(engine, db_url, tmp_path)
    assert quotas(default.config, june(20), "county") == (1, 4)
    assert {(a.tag, a.category, a.min_chars) for a in articles(default.config, june(20), "department")} == {
        ("调研", "research", 2000),
        ("经验", "experience", 2000),
    }
    other = make_bureau(engine, db_url, tmp_path, '\n[scoring]\nprofile = "example-province"\n')
    assert load_profile(other.config).name == "example-province"
    assert quotas(other.config, june(20), "county") == (1, 6)
    assert quotas(other.config, june(20), "department") == (0, 4)
    (tmp_path / "rules.toml").write_text(
        'name = "local"\ntitle = "本地规则"\n[[versions]]\neffective_from = 2025-01-01\n'
        "[versions.quota.month]\nrequired = 3\n"
        '[versions.articles.research]\ntag = "调研"\nlabel = "调研"\nmin_chars = 1500\npoints = 1\n'
        "adopted_points = 1\nadopted_by = []\nrequired_per_year = 0\nper_missing = 0\n",
        encoding="utf-8",
    )
    local = make_bureau(engine, db_url, tmp_path, '\n[scoring]\nprofile_file = "rules.toml"\n')
    assert quotas(local.config, june(20), "county") == (0, 3)
    assert [a.min_chars for a in articles(local.config, june(20), "county")] == [1500]
    typo = make_bureau(engine, db_url, tmp_path, '\n[scoring]\nprofiel = "panjin-2025"\n')
    with pytest.raises(ConfigError, match="profiel"):
        load_profile(typo.config)
    missing = make_bureau(engine, db_url, tmp_path, '\n[scoring]\nprofile_file = "nope.toml"\n')
    with pytest.raises(ConfigError, match="找不到计分规则文件"):
        load_profile(missing.config)


def test_a_draft_adopted_in_july_scores_in_july(bureau: Bureau) -> None:
    """A June draft adopted by the province in July: July's score has the adoption, June's does not."""
    ids = june_ledger(bureau)
    bureau.ok("adopt", str(ids["assessment"]), "--channel", "省级", "--date", "2025-07-03")
    july = _unit(bureau.json("scores", "--month", "2025-07"), "危化科")
    assert [x["rule"] for x in july["lines"] if x["submission_id"] == ids["assessment"]] == ["adoption:省级"]
    assert Decimal(str(july["cumulative"])) == Decimal("1.8") + Decimal(str(july["score"]))
    june_out = _unit(bureau.json("scores", "--month", "2025-06"), "危化科")
    assert not [x for x in june_out["lines"] if x["rule"].startswith("adoption")]


CHANNELS = ("市委盘锦信息", "市政府政务信息", "省级", "国家级", "内部简报")  # the last one is no channel
CATEGORIES = ["regular"] * 10 + [
    "research",
    "research",
    "experience",
    "新闻时事",
    "县区应急专栏",
    "通知公告",
    "部门会议",
]


def busy_year(engine: Engine, seed: int, drafts: int = 300, *, quiet: str = "") -> None:
    """A busy 2025 in one transaction, with the edges a year has: drafts from every unit and from a
    sender no unit claims, from late December 2024 into January 2026, some at midnight on a month's
    first day; co-authors of other units and of none; articles long and short, column items,
    rejected and duplicate drafts; adoptions revoked, entered twice, of a December 2024 draft, by
    no known channel; office entries on drafts and units; a solicitation answered; May imported.
    The `quiet` unit sends nothing (its people still co-write)."""
    import random

    rng = random.Random(seed)  # noqa: S311 (a reproducible ledger, not a secret)
    with session(engine) as s:
        units = [u.id for u in s.exec(select(Unit))]
        senders = [u.id for u in s.exec(select(Unit).where(Unit.name != quiet))]
        first = datetime(2024, 12, 20, tzinfo=CST)
        subs: list[Submission] = []
        for uid in range(1, drafts + 1):
            received = first + timedelta(seconds=rng.randrange(385 * 86400))
            if uid % 17 == 0:
                received = datetime(2025, rng.randrange(1, 13), 1, tzinfo=CST)
            msg = _acknowledged("busy", seed, uid, f"{seed}/{uid}", received)
            s.add(msg)
            s.flush()
            assert msg.id is not None
            sub = Submission(
                message_row_id=msg.id,
                unit_id=rng.choice([*senders, *senders, *senders, None]),
                sender="busy@163.com",
                title=f"稿件{uid}",
                text_hash=hashlib.sha256(f"{seed}/{uid}".encode()).hexdigest(),
                chars=rng.choice((900, 1200, 2400)),
                status=rng.choice(
                    [SubmissionStatus.ACCEPTED] * 8 + [SubmissionStatus.REJECTED, SubmissionStatus.DUPLICATE]
                ),
                category=rng.choice(CATEGORIES),
                source=f"稿件{uid}.docx",
                received_at=received,
                created_at=received,
            )
            s.add(sub)
            s.flush()
            assert sub.id is not None
            subs.append(sub)
            for position in range(rng.choice((0, 1, 1, 1, 2, 3))):
                unit_id = rng.choice([*units, None])
                s.add(
                    SubmissionAuthor(
                        submission_id=sub.id,
                        position=position,
                        name=rng.choice(("王强", "李明", "赵敏", "李娜")),
                        unit_text="",
                        unit_id=unit_id,
                    )
                )
        old = next(x for x in subs if x.received_at < datetime(2025, 1, 1, tzinfo=CST))
        for n, sub in enumerate([old, *rng.sample(subs, drafts // 5)]):
            when = max(sub.received_at, datetime(2025, 1, 2, tzinfo=CST)) + timedelta(
                days=rng.randrange(0, 35)
            )
            revoked = when + timedelta(days=2) if n % 7 == 3 else None
            for channel in rng.sample(CHANNELS, rng.choice((1, 1, 2))):
                s.add(
                    Adoption(
                        submission_id=sub.id,
                        channel=channel,
                        level="",
                        adopted_at=when,
                        revoked_at=revoked,
                        created_at=when,
                    )
                )
        for n in range(14):
            on_draft = n % 2 == 0
            s.add(
                Entry(
                    kind=rng.choice(("solicitation", "leader_instruction", "typos", "late", "nonsense")),
                    period=date(2025, rng.randrange(1, 13), rng.randrange(1, 29)),
                    unit_id=None if on_draft else rng.choice(units),
                    submission_id=rng.choice(subs).id if on_draft else None,
                    person=rng.choice((None, "王强")),
                    points=rng.choice((None, Decimal(1), Decimal("0.5"))),
                    created_at=first,
                )
            )
        sol = Solicitation(topic="汛期安全", deadline=date(2025, 7, 10), units=[], created_at=first)
        s.add(sol)
        s.flush()
        assert sol.id is not None
        for n, sub in enumerate(rng.sample(subs, 3)):
            s.add(
                SolicitationResponse(
                    solicitation_id=sol.id, submission_id=sub.id, grade=(None, 2, 3)[n], created_at=first
                )
            )
        s.add(
            History(
                unit_id=units[0],
                month=date(2025, 5, 1),
                submitted=4,
                adoptions={"市政府政务信息": 1},
                score=Decimal("2.2"),
                imported_at=first,
            )
        )


def test_a_month_read_with_tallies_scores_as_the_whole_year(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """`scores --month` on a province's ledger reads the other months' plain drafts as counts
    (load_month_records); on a busy year, every month scores exactly as from every draft of the year."""
    bureau = make_bureau(engine, db_url, tmp_path, "\n[scoring]\ncolumns_from = 2025-03-01\n")
    busy_year(engine, seed=8)
    config = bureau.config
    common = {
        "profile": load_profile(config),
        "calendar": load_calendar(config),
        "now": datetime(2026, 2, 1, tzinfo=CST),
    }
    with session(engine, readonly=True) as s:
        whole = load_records(s, config, year_period(2025))
        for number in range(1, 13):
            month = parse_month(f"2025-{number:02d}")
            lean = load_month_records(s, config, month)
            # Panjin's regulation took effect on 9 May (its first week checked from 28 April):
            # no earlier draft counts anywhere, so none is read, not even as a tally.
            assert all(t.day >= date(2025, 4, 28) for t in lean.tallies)
            assert lean.tallies or month.end <= datetime(2025, 4, 28, tzinfo=CST)
            assert len(lean.submissions) < len(whole.submissions)
            expected = score_month(month=month, **_records(whole), **common)
            assert score_month(month=month, **_records(lean), **common) == expected, month.label


def test_a_capped_profile_reads_the_whole_year(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """Under a profile that caps draft points the order of drafts matters: no tallies, every record."""
    bureau = make_bureau(engine, db_url, tmp_path, '\n[scoring]\nprofile = "example-province"\n')
    busy_year(engine, seed=9, drafts=80)
    with session(engine, readonly=True) as s:
        lean = load_month_records(s, bureau.config, parse_month("2025-06"))
        whole = load_records(s, bureau.config, year_period(2025))
    assert lean == whole


def _records(records: Records) -> dict[str, Any]:
    return records.engine_args()


COUNTY = "盘山县应急管理局"


def new_year_ledger(b: Bureau) -> dict[str, int]:
    """盘山县应急管理局's only drafts of the weeks around two New Years fall in the neighbouring year:
    Tuesday 30 December 2025 (2026-W01: 29 December – 4 January) and Saturday 2 January 2027
    (2026-W53: 28 December – 3 January). 危化科 sends nothing then."""
    li = [("李娜", COUNTY)]
    return {
        "w01": b.draft(
            COUNTY, "盘山县应急管理局开展元旦前危化企业检查", datetime(2025, 12, 30, 10, tzinfo=CST), li
        ),
        "w53": b.draft(
            COUNTY, "盘山县应急管理局部署元旦假期值班值守", datetime(2027, 1, 2, 10, tzinfo=CST), li
        ),
    }


def _week_lines(unit: dict[str, Any], week: str) -> list[str]:
    return [x["note"] for x in unit["lines"] if x["rule"] == "quota:week" and week in x["note"]]


def test_january_2026_reads_w01_from_its_december_days(bureau: Bureau) -> None:
    """A county bureau sends its only draft of 2026-W01 on 30 December 2025: `scores --month
    2026-01` finds W01 met (危化科, silent, still misses it), the draft scores 0.3 in December 2025
    and not in 2026, and January's notice, the quota report and the weekly reminder agree."""
    from daemon.notice_mail import weekly_context
    from daemon.notices import build_notice_for
    from scoring.engine import score_year

    ids = new_year_ledger(bureau)
    january = bureau.json("scores", "--month", "2026-01")
    assert _week_lines(_unit(january, COUNTY), "2026-W01") == []
    assert _week_lines(_unit(january, "危化科"), "2026-W01") != []
    assert not [x for x in _unit(january, COUNTY)["lines"] if x["submission_id"] == ids["w01"]]
    assert _unit(january, COUNTY)["submitted"] == 0
    december = _unit(bureau.json("scores", "--month", "2025-12"), COUNTY)
    drafted = [(x["rule"], x["points"]) for x in december["lines"] if x["submission_id"] == ids["w01"]]
    assert (drafted, december["submitted"]) == ([("draft", 0.3)], 1)
    # 2025 holds the draft's 0.3 (and December's two missing annual articles, −1 each).
    y2025 = _unit(bureau.json("scores", "--year", "2025"), COUNTY)
    assert (y2025["submitted"], Decimal(str(y2025["score"]))) == (1, Decimal("0.3") - 2)
    config, now = bureau.config, datetime(2026, 2, 2, 9, tzinfo=CST)
    with session(bureau.engine, readonly=True) as s:
        lean = load_month_records(s, config, parse_month("2026-01"))
        year = load_records(s, config, year_period(2026))
        notice = build_notice_for(s, config, parse_month("2026-01"), now=now)
        reminder = weekly_context(s, config, parse_week("2026-W01"), now=datetime(2026, 1, 4, 15, tzinfo=CST))
    assert [(t.unit, t.day, t.count) for t in lean.tallies] == [(COUNTY, date(2025, 12, 30), 1)]
    common = {"profile": load_profile(config), "calendar": load_calendar(config), "now": now}
    y2026 = score_year(year=2026, **common, **_records(year))
    assert _week_lines(y2026.months[0].unit(COUNTY).to_json(), "2026-W01") == []
    assert (y2026.unit(COUNTY).submitted, y2026.unit(COUNTY).score) == (0, 0)
    short = {f.unit: f.weeks for f in notice.shortfalls}
    assert 1 not in short.get(COUNTY, ())
    assert 1 in short["危化科"]
    county = next(r for r in reminder["rows"] if r["unit"] == COUNTY)
    assert (county["week"], county["month"], county["short"]) == (1, 0, False)
    w01 = bureau.json("quota", "--week", "2026-W01")["units"]
    assert [(r["unit"], r["submitted"], r["short"]) for r in w01 if r["unit"] == COUNTY] == [(COUNTY, 1, 0)]


def test_december_2026_reads_w53_from_its_january_days(bureau: Bureau) -> None:
    """2026-W53 ends on Sunday 3 January 2027: December 2026 finds it met by the county bureau's
    draft of 2 January (a tally of the lean read, scoring as from the whole ledger), judges nobody's
    W53 on New Year's Eve, and the draft scores 0.3 in January 2027, never in 2026."""
    from scoring.engine import score_year

    ids = new_year_ledger(bureau)
    config, december = bureau.config, parse_month("2026-12")
    with session(bureau.engine, readonly=True) as s:
        lean = load_month_records(s, config, december)
        whole = load_records(s, config, year_period(2026))
        y2027 = load_records(s, config, year_period(2027))
    assert [(t.unit, t.day, t.count) for t in lean.tallies] == [
        (COUNTY, date(2025, 12, 30), 1),
        (COUNTY, date(2027, 1, 2), 1),
    ]
    common = {"profile": load_profile(config), "calendar": load_calendar(config)}
    after = datetime(2027, 1, 10, tzinfo=CST)
    scores = score_month(month=december, now=after, **common, **_records(lean))
    assert scores == score_month(month=december, now=after, **common, **_records(whole))
    assert _week_lines(scores.unit(COUNTY).to_json(), "2026-W53") == []
    assert _week_lines(scores.unit("危化科").to_json(), "2026-W53") != []
    assert scores.unit(COUNTY).submitted == 0
    eve = score_month(month=december, now=datetime(2026, 12, 31, 16, tzinfo=CST), **common, **_records(lean))
    assert not [x for u in eve.units for x in u.lines if "W53" in x.note]
    y2026 = score_year(year=2026, now=after, **common, **_records(whole))
    assert y2026.months[-1] == scores
    assert y2026.unit(COUNTY).submitted == 0
    january = score_year(year=2027, now=after, **common, **_records(y2027)).months[0].unit(COUNTY)
    assert [(x.rule, x.points) for x in january.lines if x.submission_id == ids["w53"]] == [
        ("draft", Decimal("0.3"))
    ]
