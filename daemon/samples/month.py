"""One demo month of submission mail: every unit's weekly drafts plus the cases xinbao must catch."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import chinese_calendar

from daemon.samples.archives import make_zip
from daemon.samples.drafts import make_docx
from daemon.samples.messages import DEFAULT_BODY, make_submission_email
from daemon.samples.photos import make_jpeg
from daemon.samples.phrases import Signoff, _draft_text, _signoff
from daemon.samples.publicists import DEMO_PUBLICISTS, DEMO_SOLICITATION, MAILBOX, DemoPublicist
from daemon.samples.stamps import TZ


@dataclass(frozen=True)
class SampleMessage:
    """One generated message, when the mailbox received it, and what xinbao should make of it.

    expected: "accepted" | "rejected:<problem code>" | "duplicate" | "unknown_sender" | "auto_reply".
    """

    raw: bytes
    internaldate: datetime
    expected: str
    unit: str = ""
    drafts: int = 0
    note: str = ""


class _Month:
    """Writes one demo month's messages; it owns the random state, so the order of calls matters."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.messages: list[SampleMessage] = []

    def at(self, day: date) -> datetime:
        """A moment in office hours: 8:30-11:50 or 13:30-17:30."""
        pm = self.rng.random() < 0.45
        minute = (13 * 60 + 30 if pm else 8 * 60 + 30) + self.rng.randrange(240 if pm else 200)
        return datetime(
            day.year, day.month, day.day, minute // 60, minute % 60, self.rng.randrange(60), tzinfo=TZ
        )

    def draft(
        self,
        pub: DemoPublicist,
        when: datetime,
        kind: Signoff = "full",
        coauthor: DemoPublicist | None = None,
    ) -> tuple[str, bytes]:
        rng = self.rng
        title, body = _draft_text(rng, pub, (when - timedelta(days=rng.choice((0, 0, 1, 1, 2)))).date())
        lines = _signoff(rng, pub, kind, coauthor)
        created = when - timedelta(minutes=rng.randrange(20, 300))
        return title, make_docx(
            title=title,
            paragraphs=body,
            signoff_lines=lines,
            heading_style=rng.random() < 0.4,
            author=pub.name,
            created=created,
        )

    def photos(self, when: datetime, count: int, folder: str = "") -> list[tuple[str, bytes]]:
        rng, out = self.rng, []
        shot, style = when - timedelta(days=1, minutes=rng.randrange(600)), rng.randrange(3)
        for i in range(count):
            shot += timedelta(seconds=rng.randrange(20, 400))
            width, height = rng.choice(((640, 480), (800, 600), (480, 640), (720, 540)))
            stamp = shot.strftime("%Y%m%d%H%M%S")
            name = (f"微信图片_{stamp}.jpg", f"IMG_{stamp[:8]}_{stamp[8:]}.jpg", f"{i + 1}.jpg")[style]
            out.append((folder + name, make_jpeg(width=width, height=height, seed=rng.randrange(1 << 30))))
        return out

    def zipped(self, pub: DemoPublicist, when: datetime, title: str, data: bytes) -> list[tuple[str, bytes]]:
        """The draft and its photos in one zip, sometimes inside a folder named after the title."""
        folder = f"{title}/" if self.rng.random() < 0.3 else ""
        files = [(f"{folder}{title}.docx", data), *self.photos(when, self.rng.randint(1, 4), folder)]
        return [(self.zip_name(pub, when, title), make_zip(files, modified=when))]

    def zip_name(self, pub: DemoPublicist, when: datetime, title: str) -> str:
        short = pub.press.replace("市应急局", "") or pub.unit
        return self.rng.choice(
            (f"{title}.zip", f"{short}{when.month}.{when.day}信息.zip", f"{short}信息.zip")
        )

    def subject(self, pub: DemoPublicist, when: datetime, title: str) -> str:
        short = pub.press.replace("市应急局", "") or pub.unit
        return self.rng.choice(
            (
                title,
                f"{short}信息：{title}",
                f"报送信息《{title}》",
                f"{short}{when.month}月{when.day}日信息报送",
            )
        )

    def send(
        self,
        pub: DemoPublicist,
        when: datetime,
        subject: str,
        attachments: Sequence[tuple[str, bytes]],
        expected: str = "accepted",
        *,
        drafts: int = 1,
        note: str = "",
        sender: str | None = None,
        body: str = DEFAULT_BODY,
        in_reply_to: str | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        raw = make_submission_email(
            sender=sender or pub.email,
            sender_name=pub.colleague if sender else pub.name,
            to=MAILBOX,
            subject=subject,
            date=when - timedelta(seconds=self.rng.randrange(3, 50)),  # the sender's clock, a little behind
            attachments=attachments,
            body=body,
            gbk_headers=pub.gbk,
            in_reply_to=in_reply_to,
            mailer=pub.mailer,
            extra_headers=extra_headers,
        )
        self.messages.append(SampleMessage(raw, when, expected, pub.unit, drafts, note))

    def regular(
        self,
        pub: DemoPublicist,
        when: datetime,
        kind: Signoff = "full",
        expected: str = "accepted",
        note: str = "",
        tag: str = "",
    ) -> tuple[str, str, list[tuple[str, bytes]]]:
        title, data = self.draft(pub, when, kind)
        subject = f"{tag}{title}" if tag else self.subject(pub, when, title)
        attachments = self.zipped(pub, when, title, data)
        self.send(pub, when, subject, attachments, expected, note=note)
        return title, subject, attachments


def _workdays(year: int, month: int) -> list[date]:
    day, out = date(year, month, 1), []
    while day.month == month:
        try:
            working = chinese_calendar.is_workday(day)
        except NotImplementedError:  # a year the State Council has not published yet: Monday-Friday
            working = day.weekday() < 5
        if working:
            out.append(day)
        day += timedelta(days=1)
    return out


def full_weeks(year: int, month: int) -> list[list[date]]:
    """The month's ISO weeks with at least three of their workdays inside the month (调休 included)."""
    weeks: dict[int, list[date]] = {}
    for day in _workdays(year, month):
        weeks.setdefault(day.isocalendar().week, []).append(day)
    return [days for days in weeks.values() if len(days) >= 3]


def demo_month(*, year: int, month: int, seed: int = 2025) -> list[SampleMessage]:
    """About 45 messages from the ten demo units over one month, oldest first.

    Each unit sends one draft in each full work week (`full_weeks`), on workday mornings or afternoons,
    a zip with the .docx and 1-4 photos. Besides: 危化科 forgets 复审人 and re-sends the next workday, and
    later co-writes with 综合行政执法队; 盘山县 zips only the photos, then re-sends; 双台子区 sends a corrupt
    .rar, then a zip; 执法队 re-sends a draft unchanged (duplicate); a 大洼区 colleague sends from an
    unregistered QQ address; 宣教科 puts two drafts in one zip; 防汛抗旱科 attaches a bare .docx and loose
    photos; 指挥中心's mailbox answers a receipt with an out-of-office reply; 兴隆台区 skips its second week
    (short of the weekly quota) and sends two in its last; 辽滨 sends three drafts and one without 撰稿人,
    short of the monthly quota of 4. Columns (栏目): 宣教科 files one 应急科普 item (monthly) and
    防汛抗旱科 one 防灾减灾 item, but nobody files 动态要闻 (daily): a shortfall. The office's
    `DEMO_SOLICITATION` (registered before the mail arrives) is answered by 危化科 only.
    """
    weeks = full_weeks(year, month)
    if len(weeks) < 3:
        raise ValueError(f"{year}-{month:02d} has fewer than three full work weeks; pick another month")
    m = _Month(random.Random(f"xinbao-demo:{seed}:{year}-{month:02d}"))  # noqa: S311 (synthetic data)
    rng, last = m.rng, len(weeks) - 1
    short_month = min(3, last)
    for pub in DEMO_PUBLICISTS:
        for w, days in enumerate(weeks):
            i = rng.randrange(len(days) - 1)  # leaves a later workday for a re-send
            when, later, case = m.at(days[i]), m.at(days[i + 1]), (pub.unit, w)
            if case == ("危化科", 0):
                m.regular(pub, when, "no_second_reviewer", "rejected:missing_second_reviewer", "缺少复审人")
                m.regular(pub, later, note="补充复审人后重发")
            elif case == ("危化科", 2):
                title, data = m.draft(pub, when, coauthor=DEMO_PUBLICISTS[3])
                m.send(
                    pub,
                    when,
                    m.subject(pub, when, title),
                    m.zipped(pub, when, title, data),
                    note="跨单位合写",
                )
            elif case == ("盘山县应急管理局", 1):
                photos = make_zip(m.photos(when, 3), modified=when)
                m.send(pub, when, "信息照片", [(m.zip_name(pub, when, "照片"), photos)], "rejected:no_draft",
                       drafts=0, note="压缩包里只有照片")  # fmt: skip
                m.regular(pub, later, note="补发稿件")
            elif case == ("双台子区应急管理局", 2):
                title, data = m.draft(pub, when)
                broken = b"Rar!\x1a\x07\x01\x00" + rng.randbytes(rng.randrange(40_000, 90_000))
                m.send(pub, when, m.subject(pub, when, title), [(f"{title}.rar", broken)],
                       "rejected:unreadable_archive", drafts=0, note="损坏的 rar 压缩包")  # fmt: skip
                m.send(pub, later, f"重发：{title}", m.zipped(pub, later, title, data), note="改用 zip 重发")
            elif case == ("综合行政执法队", 0):
                _, subject, attachments = m.regular(pub, when)
                m.send(pub, later, f"重发：{subject}", attachments, "duplicate", note="同一稿件再次发送")
            elif case == ("大洼区应急管理局", 1):
                m.regular(pub, when)
                title, data = m.draft(pub, later)
                qq = f"{rng.randrange(10**9, 4 * 10**9)}@qq.com"
                m.send(pub, later, title, m.zipped(pub, later, title, data), "unknown_sender", sender=qq,
                       note="同事用个人 QQ 邮箱发送")  # fmt: skip
            elif case == ("宣教科", 1):
                files: list[tuple[str, bytes]] = []
                for n in (1, 2):
                    title, data = m.draft(pub, when)
                    files += [
                        (f"稿件{n}/{title}.docx", data),
                        *m.photos(when, rng.randint(1, 3), f"稿件{n}/"),
                    ]
                attachment = (f"宣教科信息{when.month}.{when.day}.zip", make_zip(files, modified=when))
                m.send(pub, when, f"宣教科{when.month}月{when.day}日信息两篇", [attachment], drafts=2,
                       note="一个压缩包两篇稿件")  # fmt: skip
            elif case == ("防汛抗旱科", 2):
                title, data = m.draft(pub, when)
                loose = [(f"{title}.docx", data), *m.photos(when, 2)]
                m.send(pub, when, m.subject(pub, when, title), loose, note="未压缩的 .docx 和照片")
            elif case == ("应急指挥中心", last):
                title, _, _ = m.regular(pub, when)
                m.send(pub, when + timedelta(minutes=rng.randrange(3, 15)), f"自动回复：关于《{title}》的收稿回执",
                       [], "auto_reply", drafts=0, note="休假自动回复",
                       body=f"您好，我正在休假，暂时无法回复邮件。如有急事请致电 {pub.phone}。",
                       in_reply_to=f"<receipt.{rng.randrange(10**8)}@xinbao.invalid>",
                       extra_headers=(("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes")))  # fmt: skip
            elif case == ("危化科", 1):
                m.regular(pub, when, note="答复约稿", tag=f"【约稿】{DEMO_SOLICITATION[0]}：")
            elif case in (("宣教科", 0), ("防汛抗旱科", 0)):
                column = "应急科普" if pub.unit == "宣教科" else "防灾减灾"
                m.regular(pub, when, note=f"报送“{column}”栏目", tag=f"【{column}】")
            elif case == ("兴隆台区应急管理局", 1):
                continue  # short of the weekly quota this week
            elif case == ("兴隆台区应急管理局", last):
                m.regular(pub, when)
                m.regular(pub, later, note="补报上周信息")
            elif case == ("辽滨经开区应急管理部", short_month):
                m.regular(pub, when, "no_author", "rejected:missing_author", "缺少撰稿人")
            elif pub.unit == "辽滨经开区应急管理部" and w > short_month:
                continue  # short of the monthly quota of 4
            else:
                m.regular(pub, when)
    return sorted(m.messages, key=lambda s: s.internaldate)
