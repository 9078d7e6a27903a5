"""Seeded submission mail for benchmarks: one .docx of 500-3000 characters and 1-9 photos per message.

Messages come from the publicists of the test bureau (tests/daemon/bureau.py), whose config the
benchmarks run with, so every one is recorded as an accepted draft and answered with a receipt.
Each carries, on top, the Authentication-Results that 163's inbound MX writes for mail whose
DKIM signature it checked, as the bureau mailbox receives it (the daemon believes its provider).
Photos (daemon.samples.make_jpeg, about 0.37 bytes a pixel) are sized so the whole message, base64
and all, lands within a few percent of the size drawn for it.
"""

from __future__ import annotations

import functools
import io
import math
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from statistics import NormalDist
from xml.sax.saxutils import escape

from daemon.samples import make_docx, make_jpeg, make_submission_email, make_zip
from tests.daemon.bureau import PUBLICISTS

MB = 1024 * 1024
CST = timezone(timedelta(hours=8))
BUREAU = "pjyjjbgs@163.com"
# base64 as mail clients write it: 76 characters and CRLF for every 57 bytes.
_B64 = 78 / 57
# make_jpeg's output per pixel, measured (0.3707-0.3723 from 640x480 to 4000x3000).
_JPEG_BYTES_PER_PIXEL = 0.371
# Headers, the text/plain and text/html parts, MIME boundaries: about 2 KB before any attachment.
_ENVELOPE = 2_500

_REVIEWERS = ("刘洋", "陈静", "孙建华", "高志远", "马红梅", "郭振宇", "何建平", "韩东")
_MAILERS = ("163", "foxmail", "thunderbird")
_TITLES = (
    "{u}开展汛期安全生产大检查",
    "{u}组织开展危化品泄漏事故应急处置演练",
    "{u}深入{place}开展燃气安全专项排查整治",
    "{u}召开安全生产形势分析会",
    "应急科普进社区 安全知识入人心——{u}走进{place}",
    "{u}扎实推进安全生产治本攻坚三年行动",
    "{u}开展有限空间作业安全专项检查",
    "{u}部署防汛备汛和值班值守工作",
)
_PLACES = ("太平镇", "高升街道", "田家街道", "兴隆街道", "渤海街道", "石化及精细化工产业园区", "胜利街道")
_SENTENCES = (
    "为深入贯彻落实市委、市政府关于安全生产工作的决策部署，{d}，{u}主要负责同志带队深入{place}开展检查。",
    "检查组采取查阅资料、现场查看、询问员工等方式，重点检查了安全生产责任制落实、隐患排查治理和应急预案演练等情况。",
    "此次检查共发现各类安全隐患{n}处，已现场督促整改{m}处，对其余隐患下达了责令限期整改指令书。",
    "检查组要求企业主要负责人切实履行安全生产第一责任人职责，持续深化隐患排查治理，坚决防范遏制各类生产安全事故发生。",
    "演练模拟储罐区火灾事故，现场指挥部接报后迅速启动应急预案，依次开展了接警响应、人员疏散、警戒隔离和抢险堵漏等科目。",
    "各参演单位分工明确、协同有序，共出动救援车辆{m}台、参演人员{n}余人，达到了预期效果。",
    "活动现场，工作人员通过设置咨询台、发放宣传资料、现场讲解等方式，向群众普及了防汛避险和家庭消防等知识。",
    "本次活动共发放宣传资料{n}余份，解答群众咨询{m}余人次，营造了“人人讲安全、个个会应急”的良好氛围。",
    "会议强调，要严格执行24小时值班和领导带班制度，值班人员必须在岗在位，确保信息报送及时准确、渠道畅通。",
    "截至目前，已储备编织袋{n}条、救生衣{m}件，各类防汛物资储备充足，抢险队伍随时待命。",
    "针对发现的问题，{u}建立问题清单和整改责任清单，实行销号管理，并将适时开展“回头看”。",
    "下一步，{u}将持续加大监督检查力度，坚决守牢安全生产底线，为全市经济社会高质量发展营造安全稳定的环境。",
)


@dataclass(frozen=True)
class SizeMix:
    """How message sizes are drawn, in MB: `lognormal` (default: mean `mean_mb`, clipped to
    [min_mb, max_mb], a long tail of photo-heavy mail), `uniform` over the range, or `fixed` at mean_mb."""

    kind: str = "lognormal"
    mean_mb: float = 2.0
    min_mb: float = 0.5
    max_mb: float = 20.0
    sigma: float = 0.9

    def draw(self, rng: random.Random) -> int:
        if self.kind == "fixed":
            return int(self.mean_mb * MB)
        if self.kind == "uniform":
            return int(rng.uniform(self.min_mb, self.max_mb) * MB)
        if self.kind != "lognormal":
            raise ValueError(f"unknown size distribution {self.kind!r}")
        mb = math.exp(rng.gauss(self._mu(), self.sigma))
        return int(min(max(mb, self.min_mb), self.max_mb) * MB)

    def _mu(self) -> float:
        """The log-mean whose clipped distribution has mean `mean_mb` (bisection on the closed form)."""
        lo, hi = math.log(self.min_mb) - 5, math.log(self.max_mb) + 5
        for _ in range(80):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if self._clipped_mean(mid) < self.mean_mb else (lo, mid)
        return (lo + hi) / 2

    def _clipped_mean(self, mu: float) -> float:
        s, a, b, phi = self.sigma, math.log(self.min_mb), math.log(self.max_mb), NormalDist().cdf
        inside = math.exp(mu + s * s / 2) * (phi((b - mu - s * s) / s) - phi((a - mu - s * s) / s))
        return self.min_mb * phi((a - mu) / s) + self.max_mb * (1 - phi((b - mu) / s)) + inside


def _body(rng: random.Random, unit: str, when: datetime, chars: int) -> list[str]:
    """Paragraphs of `chars` characters in all, none of them white space (three or four sentences
    each, the last one cut short)."""
    paragraphs: list[str] = []
    total = 0
    while total < chars:
        sentences = rng.sample(_SENTENCES, rng.randint(3, 4))
        text = "".join(
            s.format(
                u=unit,
                place=rng.choice(_PLACES),
                d=f"{when.month}月{when.day}日",
                n=rng.randrange(10, 400),
                m=rng.randrange(5, 200),
            )
            for s in sentences
        )
        paragraphs.append(text[: chars - total])
        total += len(paragraphs[-1])
    return paragraphs


def _photos(rng: random.Random, budget: int, count: int, when: datetime) -> list[tuple[str, bytes]]:
    """`count` 4:3 photos whose sizes vary by ±30% and add up to about `budget` bytes."""
    weights = [rng.uniform(0.7, 1.3) for _ in range(count)]
    scale = budget / sum(weights)
    photos = []
    for i, w in enumerate(weights):
        pixels = max(256.0, w * scale / _JPEG_BYTES_PER_PIXEL)
        width = max(16, round(math.sqrt(pixels * 4 / 3)))
        height = max(16, round(pixels / width))
        if rng.random() < 0.3:
            width, height = height, width  # shot upright
        stamp = (when - timedelta(hours=3) + timedelta(seconds=97 * i)).strftime("%Y%m%d_%H%M%S")
        photos.append(
            (f"IMG_{stamp}.jpg", make_jpeg(width=width, height=height, seed=rng.randrange(1 << 30)))
        )
    return photos


@functools.cache
def _template() -> bytes:
    return make_docx(title="@TITLE@", paragraphs=["@BODY@"], signoff_lines=["@AUTHOR@", "@REVIEWERS@"])


def _quick_docx(title: str, paragraphs: list[str], signoff: list[str]) -> bytes:
    """make_docx's output with the text swapped into its document.xml: the body as one paragraph,
    about 30 times faster, for backlogs of thousands of messages."""
    slots = {
        "@TITLE@": title,
        "@BODY@": "".join(paragraphs),
        "@AUTHOR@": signoff[0],
        "@REVIEWERS@": signoff[1],
    }
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_template())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                text = data.decode()
                for slot, value in slots.items():
                    text = text.replace(slot, escape(value))
                data = text.encode()
            dst.writestr(info, data)
    return out.getvalue()


def submission(rng: random.Random, *, target_bytes: int, when: datetime, quick: bool = False) -> bytes:
    """One publicist's message of about `target_bytes`: a draft zipped (GBK names) with its photos,
    or, one time in five, the .docx and photos attached loose. `quick` builds the .docx from a
    template (one body paragraph), for large backlogs."""
    unit = rng.choice(sorted(PUBLICISTS))
    name, address = PUBLICISTS[unit]
    title = rng.choice(_TITLES).format(u=unit, place=rng.choice(_PLACES))
    first, second = rng.sample(_REVIEWERS, 2)
    paragraphs = _body(rng, unit, when, rng.randint(500, 3000))
    signoff = [f"撰稿人：{unit} {name}", f"初审人：{first}    复审人：{second}"]
    if quick:
        docx = _quick_docx(title, paragraphs, signoff)
    else:
        docx = make_docx(
            title=title,
            paragraphs=paragraphs,
            signoff_lines=signoff,
            author=name,
            created=when - timedelta(hours=2),
        )
    count = rng.randint(1, 9)
    budget = max(count * 2_000, int((target_bytes - _ENVELOPE) / _B64) - len(docx) - 150 * (count + 2))
    files = [(f"{title}.docx", docx), *_photos(rng, budget, count, when)]
    zipped = rng.random() < 0.8
    attachments = (
        [(f"{unit}信息{when.month}.{when.day}.zip", make_zip(files, modified=when))] if zipped else files
    )
    raw = make_submission_email(
        sender=address,
        sender_name=name,
        to=BUREAU,
        subject=f"{unit}信息：{title}",
        date=when,
        attachments=attachments,
        gbk_headers=rng.random() < 0.4,
        mailer=rng.choice(_MAILERS),  # type: ignore[arg-type]
    )
    return delivered(raw, address)


def delivered(raw: bytes, sender: str) -> bytes:
    """The message as 163 delivers it: its Authentication-Results (RFC 8601) prepended."""
    domain = sender.rpartition("@")[2]
    stamp = f"Authentication-Results: mx.163.com; dkim=pass header.d={domain}; dmarc=pass header.from={domain}\r\n"
    return stamp.encode() + raw


def submissions(
    count: int,
    *,
    seed: int = 8,
    mix: SizeMix = SizeMix(),
    start: datetime = datetime(2025, 6, 3, 8, 30, tzinfo=CST),
    quick: bool = False,
) -> Iterator[bytes]:
    """`count` messages, oldest first, a few minutes apart; the same seed gives the same bytes."""
    rng = random.Random(f"xinbao-bench:{seed}")
    when = start
    for _ in range(count):
        when += timedelta(minutes=rng.randrange(2, 30))
        yield submission(rng, target_bytes=mix.draw(rng), when=when, quick=quick)


def main() -> None:
    """`python -m benchmarks.generate [COUNT]`: how close the generated sizes come to the mix."""
    import sys
    import time

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    started = time.perf_counter()
    sizes = [len(raw) for raw in submissions(count)]
    elapsed = time.perf_counter() - started
    print(
        f"{count} messages, {sum(sizes) / MB:.1f} MB, mean {sum(sizes) / count / MB:.2f} MB, "
        f"min {min(sizes) / MB:.2f} MB, max {max(sizes) / MB:.2f} MB, generated in {elapsed:.1f} s"
    )


if __name__ == "__main__":
    main()
