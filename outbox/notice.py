"""The monthly notice (通报) as data: what the .docx, the .xlsx and the mail all show.

`build_notice` is pure: it reads a month's scores (scoring.engine) and the records they came
from, and decides the table, the praise, the shortfalls and the list of adopted drafts. A
correction lists its changes against a snapshot of the notice it corrects (read back from that
notice's .xlsx, see outbox.notice_xlsx), so they are changes against what was announced.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Literal

from outbox.render import cn_ordinal
from scoring.calendar import WorkCalendar
from scoring.periods import Period, day_of
from scoring.profile import Profile, Version
from scoring.quota import month_quota, week_quota, weeks_in_month
from scoring.records import AdoptionRecord, DraftTally, SubmissionRecord, UnitRecord
from scoring.results import Line, MonthScores, format_points

Order = Literal["config", "score"]
_GRADED = re.compile(r"^(.*?，计-?[0-9.]+分)(?:（(.+?)报送）)?")
RECIPIENTS = "各县区应急局，经济区应急部、机关各科室、服务中心及执法队："
FOOTNOTE = "如统计错误，请及时提出，以便核实。"


@dataclass(frozen=True)
class Column:
    """An adoption channel of the profile: one column of counts, its points in the header."""

    channel: str
    label: str  # 市政府《政务信息》: how sentences name it
    points: Decimal

    @property
    def header(self) -> str:
        return f"{self.channel}（{format_points(self.points)}分/篇）"


@dataclass(frozen=True)
class Row:
    """One unit's line of the table; `bonus` is everything but draft and adoption points."""

    number: int
    unit: str
    submitted: int
    adopted: tuple[int, ...]  # per column
    bonus: Decimal
    score: Decimal
    cumulative: Decimal


@dataclass(frozen=True)
class Adopted:
    title: str
    unit: str
    channel: str  # the column's channel


@dataclass(frozen=True)
class Shortfall:
    """A unit that missed a quota: its month against the monthly number, the weeks it missed."""

    unit: str
    submitted: int
    required: int  # the monthly number (0: no monthly quota)
    weeks: tuple[int, ...]  # ISO week numbers of the weeks without a draft

    @property
    def silent(self) -> bool:
        """Sent nothing the whole month."""
        return self.submitted == 0 and self.required > 0

    @property
    def text(self) -> str:
        """盘山县应急管理局：全月报送2篇（应报4篇），第25至26周未报送."""
        parts = []
        if self.submitted < self.required:
            parts.append(f"全月报送{self.submitted}篇（应报{self.required}篇）")
        if self.weeks:
            parts.append(f"{week_list(self.weeks)}未报送")
        return f"{self.unit}：{'，'.join(parts)}"


@dataclass(frozen=True)
class Notice:
    """Everything one month's notice says."""

    month: Period
    bureau: str  # 盘锦市应急管理局
    office: str  # the issuing office, signed under the text
    issued: date
    recipients: str
    draft_points: Decimal
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    praised: tuple[str, ...]
    shortfalls: tuple[Shortfall, ...]
    adopted: tuple[Adopted, ...]
    details: tuple[tuple[str, Line], ...]  # (unit, line): every line of every unit's score
    profile: str
    quota: tuple[int, int]  # drafts required per week and per month (the default group's)
    regulation: str  # 《…工作制度（试行）》（盘应急发〔2025〕22号）: what the notice rests on
    correction: int | None = None  # N of the N-th correction
    corrects: date | None = None  # the issue date of the notice a correction corrects
    changes: tuple[str, ...] = ()

    @property
    def year_month(self) -> tuple[int, int]:
        first = day_of(self.month.start)
        return first.year, first.month

    @property
    def file_time(self) -> datetime:
        """09:00 on the issue day in the bureau's time zone, as the notice's files record their
        creation: in UTC without tzinfo, since .docx and .xlsx store it as W3CDTF with "Z"."""
        local = datetime.combine(self.issued, time(9), tzinfo=self.month.start.tzinfo)
        return local.astimezone(UTC).replace(tzinfo=None)

    @property
    def subject(self) -> str:
        """关于2025年6月份政务信息报送及采用情况的通报, with （更正） for a correction."""
        year, month = self.year_month
        return f"关于{year}年{month}月份政务信息报送及采用情况的通报" + (
            "（更正）" if self.correction else ""
        )

    @property
    def filename(self) -> str:
        """The attachments' name without extension."""
        year, month = self.year_month
        n = self.correction or 0
        return f"{year}年{month}月份政务信息通报" + (
            "" if not n else "（更正）" if n == 1 else f"（更正{n}）"
        )

    @property
    def submitted(self) -> int:
        return sum(r.submitted for r in self.rows)

    def adopted_total(self, column: Column) -> int:
        return sum(1 for a in self.adopted if a.channel == column.channel)

    @property
    def summary(self) -> str:
        """The summary paragraph: drafts received, adopted per channel."""
        year, month = self.year_month
        counts = [(c, self.adopted_total(c)) for c in self.columns]
        adopted = "、".join(f"被{c.label}采用{n}篇" for c, n in counts if n)
        total = sum(n for _, n in counts)
        text = (
            f"{year}年{month}月，全市应急管理系统{len(self.rows)}个单位（科室）通过市局邮箱共报送政务信息"
            f"{self.submitted}篇，"
        )
        text += f"其中{adopted}，共计采用{total}篇次。" if total else "本月暂无信息被采用。"
        return text + "各单位报送、采用及得分情况见附件。"

    @property
    def intro(self) -> str:
        year, month = self.year_month
        return (
            f"为进一步规范政务信息报送工作，根据{self.regulation}有关要求，现将{year}年{month}月份"
            "全市应急管理系统政务信息报送及采用情况通报如下："
        )

    @property
    def correction_lines(self) -> tuple[str, ...]:
        """A correction's opening: which notice it corrects and every change, numbered."""
        if not self.correction:
            return ()
        year, month = self.year_month
        when = f"{self.corrects.year}年{self.corrects.month}月{self.corrects.day}日" if self.corrects else ""
        return (
            f"我局{when}印发的《关于{year}年{month}月份政务信息报送及采用情况的通报》中部分内容有误，现更正如下：",
            *(f"{n}．{change}。" for n, change in enumerate(self.changes, 1)),
            "更正后的通报全文如下。",
        )

    @property
    def column_items(self) -> tuple[tuple[str, str], ...]:
        """(unit, what it missed): the `column:<name>:missing` lines of the scores, as they read."""
        return tuple(
            (unit, line.note)
            for unit, line in self.details
            if line.rule.startswith("column:") and line.rule.endswith(":missing")
        )

    @property
    def solicitation_items(self) -> tuple[tuple[str, str], ...]:
        """(unit, result): each response (graded, ungraded, late) and each missing one, once."""
        out: dict[tuple[str, int | None, str], None] = {}
        for unit, line in self.details:
            if line.rule != "solicitation":
                continue
            # A graded response is split among its authors: one line per share, each opening
            # with the grade ("…评2分，计2分"), a co-author's unit adding "（危化科报送）"; the
            # notice names the response once, under the unit that sent it.
            text = line.note
            if line.person is not None and (head := _GRADED.match(text)):
                text, unit = head.group(1), head.group(2) or unit
            out.setdefault((unit, line.submission_id, text))
        return tuple((unit, text) for unit, _, text in out)

    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The numbered parts of the text: (一、heading, [(kind, text)]), kind "p" or "sub"."""
        out: list[tuple[str, list[tuple[str, str]]]] = [("总体情况", [("p", self.summary)])]
        if self.praised:
            praise = f"{'、'.join(self.praised)}信息报送积极、质量较高，本月得分位居前列，予以通报表扬。"
            out.append(("表扬情况", [("p", praise)]))
        week, month = self.quota
        rule = (
            f"按照每周报送不少于{week}篇、每月不少于{month}篇的要求" if week or month else "按照报送任务要求"
        )
        if self.shortfalls:
            items = [("p", f"{rule}，以下单位未完成本月报送任务，予以通报批评：")]
            # Units that sent nothing at all are named together, the others one by one.
            silent = [s.unit for s in self.shortfalls if s.silent]
            partial = [s for s in self.shortfalls if not s.silent]
            groups = [g for g in (silent, partial) if g]
            if silent:
                if len(groups) > 1:
                    items.append(("sub", f"（一）本月未报送信息的单位（{len(silent)}个）"))
                    items.append(("p", f"{'、'.join(silent)}。"))
                else:
                    items.append(("p", f"本月未报送信息的单位（{len(silent)}个）：{'、'.join(silent)}。"))
            if partial:
                if len(groups) > 1:
                    items.append(("sub", "（二）未完成每周或每月报送任务的单位"))
                items += [("p", f"{n}．{s.text}。") for n, s in enumerate(partial, 1)]
            items.append(("p", "请以上单位（科室）负责人向局办公室说明情况，并在下月抓好整改落实。"))
            out.append(("未完成报送任务情况", items))
        else:
            out.append(("任务完成情况", [("p", f"{rule}，本月各单位均完成了报送任务。")]))
        if self.column_items:
            items = [("p", "以下栏目未按更新周期报送信息：")]
            items += [("p", f"{n}．{unit}：{text}。") for n, (unit, text) in enumerate(self.column_items, 1)]
            out.append(("栏目更新情况", items))
        if self.solicitation_items:
            items = [
                ("p", f"{n}．{unit}：{text}。") for n, (unit, text) in enumerate(self.solicitation_items, 1)
            ]
            out.append(("约稿完成情况", items))
        adopted: list[tuple[str, str]] = []
        columns = [c for c in self.columns if self.adopted_total(c)]
        for n, column in enumerate(columns, 1):
            adopted.append(("sub", f"（{cn_ordinal(n)}）{column.label}采用{self.adopted_total(column)}篇"))
            titles = [a for a in self.adopted if a.channel == column.channel]
            adopted += [("p", f"{i}．《{a.title}》（{a.unit}）") for i, a in enumerate(titles, 1)]
        out.append(("信息采用情况", adopted or [("p", "本月暂无信息被采用。")]))
        return [(f"{cn_ordinal(n)}、{heading}", items) for n, (heading, items) in enumerate(out, 1)]


def build_notice(
    *,
    scores: MonthScores,
    submissions: Iterable[SubmissionRecord],
    adoptions: Iterable[AdoptionRecord],
    profile: Profile,
    calendar: WorkCalendar,
    bureau: str,
    office: str,
    issued: date,
    now: datetime | None = None,
    order: Order = "config",
    praise: int = 3,
    recipients: str = RECIPIENTS,
    correction: int | None = None,
    tallies: Iterable[DraftTally] = (),
) -> Notice:
    """The notice of `scores.month`; `now` as given to score_month (weeks not yet over are not judged).

    `submissions` and `tallies` as score_month took them (the quota shortfalls count both).
    """
    month = scores.month
    version = profile.version_for(month)
    columns = _columns(version)
    subs = {s.id: s for s in submissions}
    known = {u.unit for u in scores.units}
    adopted = [
        Adopted(sub.title, sub.unit, a.channel)
        for a in sorted(adoptions, key=lambda a: (a.adopted_at, a.id))
        if a.revoked_at is None
        and a.adopted_at in month
        and (sub := subs.get(a.submission_id)) is not None
        and sub.status == "accepted"
        and sub.unit in known
        and any(c.channel == a.channel for c in columns)
    ]
    units = list(scores.units)
    if order == "score":
        units.sort(key=lambda u: -u.score)  # stable: ties keep the configured order
    counts = Counter((a.unit, a.channel) for a in adopted)
    rows = tuple(
        Row(
            number=n,
            unit=u.unit,
            submitted=u.submitted,
            adopted=tuple(counts[(u.unit, c.channel)] for c in columns),
            bonus=u.score - sum((x.points for x in u.lines if _draft_or_adoption(x)), Decimal(0)),
            score=u.score,
            cumulative=u.cumulative,
        )
        for n, u in enumerate(units, 1)
    )
    shortfalls = _shortfalls(scores, tuple(subs.values()), tuple(tallies), profile, calendar, now)
    return Notice(
        month=month,
        bureau=bureau,
        office=office,
        issued=issued,
        recipients=recipients,
        draft_points=version.default.draft.points,
        columns=columns,
        rows=rows,
        praised=_praised(rows, {s.unit for s in shortfalls}, praise),
        shortfalls=shortfalls,
        adopted=tuple(adopted),
        details=tuple((u.unit, line) for u in scores.units for line in u.lines),
        profile=scores.profile,
        quota=(version.default.week.required, version.default.month.required),
        regulation=f"《{profile.title}》" + (f"（{version.note}）" if version.note else ""),
        correction=correction,
    )


def _columns(version: Version) -> tuple[Column, ...]:
    """The default rules' channels, then any a unit group adds, each once."""
    seen: dict[str, Column] = {}
    for rules in (version.default, *(r for _, r in version.groups)):
        for c in rules.channels:
            seen.setdefault(c.name, Column(c.name, c.label, c.points))
    return tuple(seen.values())


def _draft_or_adoption(line: Line) -> bool:
    return line.rule == "draft" or line.rule.startswith("adoption:")


def _praised(rows: tuple[Row, ...], short: set[str], count: int) -> tuple[str, ...]:
    """The best units: the top `count` scores among units that met every quota (ties included)."""
    eligible = sorted((r for r in rows if r.unit not in short and r.score > 0), key=lambda r: -r.score)
    if count <= 0 or not eligible:
        return ()
    bar = eligible[min(count, len(eligible)) - 1].score
    return tuple(r.unit for r in eligible if r.score >= bar)


def _shortfalls(
    scores: MonthScores,
    submissions: tuple[SubmissionRecord, ...],
    tallies: tuple[DraftTally, ...],
    profile: Profile,
    calendar: WorkCalendar,
    now: datetime | None,
) -> tuple[Shortfall, ...]:
    # Exactly the units whose score lists a missed quota (imported months list none); the weeks
    # and counts are recomputed with the quota functions the rule itself uses.
    missed = {
        u.unit for u in scores.units if any(x.rule.startswith("quota:") and x.points <= 0 for x in u.lines)
    }
    if not missed:
        return ()
    units = [u for u in _unit_records(scores) if u.name in missed]
    monthly = {
        r.unit: r
        for r in month_quota(
            month=scores.month,
            units=units,
            submissions=submissions,
            profile=profile,
            calendar=calendar,
            tallies=tallies,
        ).units
    }
    weeks: dict[str, list[int]] = {u.name: [] for u in units}
    for week in weeks_in_month(scores.month):
        if now is not None and week.end > now:
            continue
        report = week_quota(
            week=week,
            units=units,
            submissions=submissions,
            profile=profile,
            calendar=calendar,
            tallies=tallies,
        )
        for r in report.units:
            if r.short:
                weeks[r.unit].append(int(week.label.rpartition("W")[2]))
    out = []
    for u in units:
        m = monthly[u.name]
        month_short = m.short if now is None or scores.month.end <= now else 0
        if month_short or weeks[u.name]:
            out.append(Shortfall(u.name, m.submitted, m.required if month_short else 0, tuple(weeks[u.name])))
    return tuple(out)


def _unit_records(scores: MonthScores) -> list[UnitRecord]:
    return [UnitRecord(u.unit, u.group, i) for i, u in enumerate(scores.units)]


def week_list(numbers: Iterable[int]) -> str:
    """第23周、第25至26周: ISO week numbers, consecutive ones as a range."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return "、".join(f"第{r[0]}周" if len(r) == 1 else f"第{r[0]}至{r[-1]}周" for r in runs)
