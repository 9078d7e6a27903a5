"""Generated submission mail: drafts, photos, GBK zips, messages, the demo month and its config."""

from __future__ import annotations

import collections
import email
import io
import re
import shutil
import struct
import subprocess
import tomllib
import zipfile
from datetime import date, datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import chinese_calendar
import docx
import pytest
from docx.oxml.ns import qn

from daemon.config import parse_config
from daemon.samples import (
    DEMO_PUBLICISTS,
    MAILBOX,
    TZ,
    SampleMessage,
    demo_config_toml,
    demo_month,
    full_weeks,
    make_docx,
    make_jpeg,
    make_submission_email,
    make_zip,
)

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config.toml"
TITLE = "市应急局参加盘锦兴海石化有限公司突发事故应急处置演练"
SIGNOFF = ["撰稿人:危化科 王强；综合行政执法队 赵敏", "初审人:孙建华    复审人:高志远"]


def _draft(**kw: object) -> bytes:
    args: dict[str, object] = {
        "title": TITLE,
        "paragraphs": [
            "为深入践行第24个全国“安全生产月”活动，6月19日，XXX公司开展了专项应急处置演练。",
            "下一步……",
        ],
        "signoff_lines": SIGNOFF,
    }
    return make_docx(**(args | kw))  # type: ignore[arg-type]


def test_draft_reads_back_with_title_body_and_signoff() -> None:
    """A co-written 危化科 draft opens in python-docx: title first, sign-off last, 仿宋 for CJK text."""
    document = docx.Document(io.BytesIO(_draft()))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[0] == TITLE
    assert texts[-2:] == SIGNOFF
    assert document.paragraphs[0].style.name == "Heading 1"
    fonts = document.paragraphs[1].runs[0]._element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312"


def test_draft_title_as_plain_paragraph() -> None:
    """Most publicists type the title as a bold centred Normal paragraph, not a heading style."""
    document = docx.Document(io.BytesIO(_draft(heading_style=False)))
    assert document.paragraphs[0].style.name == "Normal"
    assert document.paragraphs[0].runs[0].bold


def test_draft_bytes_do_not_depend_on_the_clock() -> None:
    """The same draft built twice is byte-identical (zip timestamps come from `created`)."""
    created = datetime(2025, 6, 19, 15, 0, tzinfo=TZ)
    assert _draft(created=created) == _draft(created=created)
    members = zipfile.ZipFile(io.BytesIO(_draft(created=created))).infolist()
    assert {m.date_time for m in members} == {(2025, 6, 19, 15, 0, 0)}


def test_zip_uses_gbk_names_without_utf8_flag() -> None:
    """Like WinRAR on Chinese Windows: GBK names, bit 11 clear, a folder entry, photos stored."""
    files = [
        ("稿件/防汛演练.docx", _draft()),
        ("稿件/微信图片_20250619.jpg", make_jpeg(width=32, height=32, seed=1)),
    ]
    data = make_zip(files)
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert all(i.flag_bits & 0x800 == 0 for i in infos)
    # Without the flag, readers fall back to cp437; the bytes underneath are GBK.
    raw_names = [i.filename.encode("cp437") for i in infos]
    assert raw_names == ["稿件/".encode("gbk")] + [n.encode("gbk") for n, _ in files]
    with zipfile.ZipFile(io.BytesIO(data), metadata_encoding="gbk") as archive:
        assert archive.namelist() == ["稿件/", *(n for n, _ in files)]
        assert archive.read("稿件/防汛演练.docx") == files[0][1]
        photo = archive.getinfo("稿件/微信图片_20250619.jpg")
        assert photo.compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("稿件/防汛演练.docx").compress_type == zipfile.ZIP_DEFLATED


def test_zip_utf8_names_set_the_flag() -> None:
    """7-Zip style: UTF-8 names with the flag set, readable without guessing."""
    data = make_zip([("防汛演练.docx", b"x")], gbk_names=False)
    (info,) = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert info.flag_bits & 0x800
    assert info.filename == "防汛演练.docx"


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while data[i] == 0xFF and data[i + 1] != 0xC0:
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    height, width = struct.unpack(">HH", data[i + 5 : i + 9])
    return width, height


def test_jpeg_structure_and_size_grow_like_a_photo() -> None:
    """A photo is a baseline JFIF JPEG of the asked size; more pixels, proportionally more bytes."""
    small, large = make_jpeg(width=640, height=480, seed=3), make_jpeg(width=1600, height=1200, seed=3)
    for data, size in ((small, (640, 480)), (large, (1600, 1200))):
        assert data[:4] == b"\xff\xd8\xff\xe0"
        assert data[6:11] == b"JFIF\x00"
        assert data[-2:] == b"\xff\xd9"
        assert _jpeg_size(data) == size
    assert 0.2 < len(large) / (1600 * 1200) < 0.6
    assert make_jpeg(width=640, height=480, seed=3) == small
    assert make_jpeg(width=640, height=480, seed=4) != small


def _pdf_with(jpeg: bytes, width: int, height: int) -> bytes:
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 %d %d]/Resources<</XObject<</I 4 0 R>>>>/Contents 5 0 R>>"
        % (width, height),
        b"<</Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceRGB/BitsPerComponent 8"
        b"/Filter/DCTDecode/Length %d>>stream\n%s\nendstream" % (width, height, len(jpeg), jpeg),
    ]
    content = b"q %d 0 0 %d 0 0 cm /I Do Q" % (width, height)
    objects.append(b"<</Length %d>>stream\n%s\nendstream" % (len(content), content))
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm) to decode JPEG")
def test_jpeg_decodes_without_errors(tmp_path: Path) -> None:
    """libjpeg (through poppler) decodes the photo cleanly; a truncated one is reported, so the check bites."""
    photo = make_jpeg(width=200, height=150, seed=9)
    for name, data, clean in (("ok", photo, True), ("cut", photo[: len(photo) // 2] + b"\xff\xd9", False)):
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(_pdf_with(data, 200, 150))
        run = subprocess.run(
            ["pdftoppm", "-r", "72", "-png", str(pdf), str(tmp_path / name)], capture_output=True, timeout=60
        )
        assert run.returncode == 0
        assert (run.stderr == b"") is clean, run.stderr
    assert (tmp_path / "ok-1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


WHEN = datetime(2025, 6, 19, 9, 30, 12, tzinfo=TZ)
ZIP_NAME = "市应急局参加突发事故应急处置演练（示例）.zip"


@pytest.mark.parametrize(
    ("mailer", "gbk", "marker"),
    [
        ("163", False, b'filename="=?UTF-8?B?'),
        ("163", True, b'filename="=?GBK?B?'),
        ("foxmail", True, b'filename="=?gb2312?B?'),
        ("thunderbird", False, b"filename*0*=UTF-8''%E5%B8%82"),
    ],
)
def test_submission_email_parses_back(mailer: str, gbk: bool, marker: bytes) -> None:
    """Each client's encoding of subject and attachment name decodes with the stdlib email package."""
    archive = make_zip([("演练.docx", _draft())])
    raw = make_submission_email(
        sender="wangqiang.wh@163.com",
        sender_name="王强",
        to=MAILBOX,
        subject=f"危化科信息：{TITLE}",
        date=WHEN,
        attachments=[(ZIP_NAME, archive)],
        gbk_headers=gbk,
        mailer=mailer,  # type: ignore[arg-type]
    )
    assert marker in raw
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    message = _parse(raw)
    assert message["subject"] == f"危化科信息：{TITLE}"
    assert message["from"].addresses[0].display_name == "王强"
    assert message["from"].addresses[0].addr_spec == "wangqiang.wh@163.com"
    assert message["date"].datetime == WHEN
    body = message.get_body(("plain",))
    assert body is not None
    assert "请审阅" in body.get_content()
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == ZIP_NAME
    assert attachment.get_payload(decode=True) == archive
    assert all(not part.defects for part in message.walk())


def test_foxmail_falls_back_to_gbk_label_beyond_gb2312() -> None:
    """Foxmail labels text gb2312 when it fits; a title with “——” (GBK only) is labelled GBK instead."""
    name = "应急科普进社区——走进幸福社区.zip"
    raw = make_submission_email(
        sender="psxyjj_xx@163.com", sender_name="李娜", to=MAILBOX, subject="信息", date=WHEN,
        attachments=[(name, b"PK")], gbk_headers=True, mailer="foxmail",
    )  # fmt: skip
    assert b"=?GBK?B?" in raw
    assert b"gb2312" not in raw
    (attachment,) = _parse(raw).iter_attachments()
    assert attachment.get_filename() == name


def test_auto_reply_carries_rfc3834_headers() -> None:
    """An out-of-office answer to a receipt: no attachment, Auto-Submitted, In-Reply-To the receipt."""
    raw = make_submission_email(
        sender="zhengjie.zh@163.com",
        sender_name="郑洁",
        to=MAILBOX,
        subject="自动回复：关于《防汛演练》的收稿回执",
        date=WHEN,
        attachments=[],
        body="您好，我正在休假。",
        in_reply_to="<receipt.1@xinbao.invalid>",
        extra_headers=[("Auto-Submitted", "auto-replied")],
    )
    message = _parse(raw)
    assert message["auto-submitted"] == "auto-replied"
    assert message["in-reply-to"] == "<receipt.1@xinbao.invalid>"
    assert list(message.iter_attachments()) == []
    assert message["subject"].startswith("自动回复：")


@pytest.fixture(scope="module")
def june() -> list[SampleMessage]:
    return demo_month(year=2025, month=6)


def _attachments(sample: SampleMessage) -> list[tuple[str, bytes]]:
    return [
        (a.get_filename() or "", a.get_payload(decode=True)) for a in _parse(sample.raw).iter_attachments()
    ]


def _drafts(sample: SampleMessage) -> list[list[str]]:
    """The paragraphs of every .docx in the message, loose or zipped."""
    out = []
    for name, data in _attachments(sample):
        files = [(name, data)]
        if name.endswith(".zip"):
            archive = zipfile.ZipFile(io.BytesIO(data), metadata_encoding="gbk")
            files = [(n, archive.read(n)) for n in archive.namelist()]
        out += [
            [p.text for p in docx.Document(io.BytesIO(d)).paragraphs] for n, d in files if n.endswith(".docx")
        ]
    return out


def test_demo_month_has_the_planned_cases(june: list[SampleMessage]) -> None:
    """June 2025: four full work weeks, ten units, 46 messages with the special cases once each."""
    assert collections.Counter(s.expected for s in june) == {
        "accepted": 39,
        "rejected:missing_second_reviewer": 1,
        "rejected:missing_author": 1,
        "rejected:no_draft": 1,
        "rejected:unreadable_archive": 1,
        "duplicate": 1,
        "unknown_sender": 1,
        "auto_reply": 1,
    }
    assert sum(s.drafts for s in june if s.expected == "accepted") == 40  # 宣教科's zip holds two


def test_demo_month_is_deterministic(june: list[SampleMessage]) -> None:
    """The same seed gives the same bytes; another seed gives other mail."""
    again = demo_month(year=2025, month=6)
    assert [(s.raw, s.internaldate, s.expected) for s in again] == [
        (s.raw, s.internaldate, s.expected) for s in june
    ]
    assert demo_month(year=2025, month=6, seed=7)[0].raw != june[0].raw


def test_demo_month_arrives_on_workday_office_hours(june: list[SampleMessage]) -> None:
    """Every message arrives on a Chinese workday in June (端午 on 2 June excluded), 8:30-17:30 Shanghai time."""
    assert [s.internaldate for s in june] == sorted(s.internaldate for s in june)
    for sample in june:
        when = sample.internaldate
        assert when.utcoffset() == timedelta(hours=8)
        assert when.date().month == 6
        assert chinese_calendar.is_workday(when.date())
        assert time(8, 30) <= when.time() <= time(17, 30)
        assert _parse(sample.raw)["date"].datetime <= when
    weeks = full_weeks(2025, 6)
    assert [w[0] for w in weeks] == [date(2025, 6, 3), date(2025, 6, 9), date(2025, 6, 16), date(2025, 6, 23)]
    assert {s.internaldate.isocalendar().week for s in june} == {23, 24, 25, 26}


def test_demo_month_quota_shortfalls(june: list[SampleMessage]) -> None:
    """兴隆台区 misses week 24 only; 辽滨 counts three drafts; every other unit covers every week, 4+ a month."""
    counted: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    for sample in june:
        if sample.expected == "accepted":
            counted[sample.unit][sample.internaldate.isocalendar().week] += sample.drafts
    weeks = {23, 24, 25, 26}
    for pub in DEMO_PUBLICISTS:
        got = counted[pub.unit]
        if pub.unit == "兴隆台区应急管理局":
            assert set(got) == weeks - {24}
            assert got.total() == 4
        elif pub.unit == "辽滨经开区应急管理部":
            assert got.total() == 3
        else:
            assert set(got) == weeks, pub.unit
            assert got.total() >= 4, pub.unit


def test_demo_month_special_messages_look_the_part(june: list[SampleMessage]) -> None:
    """Each special case carries the defect it is named for, and nothing else is wrong with it."""
    by = {s.expected: s for s in june}
    (missing_second,) = _drafts(by["rejected:missing_second_reviewer"])
    assert any(t.startswith("初审人") for t in missing_second)
    assert not any("复审人" in t for t in missing_second)
    (missing_author,) = _drafts(by["rejected:missing_author"])
    assert not any("撰稿人" in t for t in missing_author)
    assert any("复审人" in t for t in missing_author)
    (photos_only,) = _attachments(by["rejected:no_draft"])
    names = zipfile.ZipFile(io.BytesIO(photos_only[1]), metadata_encoding="gbk").namelist()
    assert names
    assert all(n.endswith(".jpg") for n in names)
    (rar,) = _attachments(by["rejected:unreadable_archive"])
    assert rar[0].endswith(".rar")
    assert rar[1].startswith(b"Rar!\x1a\x07")
    duplicate = by["duplicate"]
    earlier = [s for s in june if s.unit == duplicate.unit and s.internaldate < duplicate.internaldate]
    assert _attachments(duplicate) in [_attachments(s) for s in earlier]
    stranger = _parse(by["unknown_sender"].raw)["from"].addresses[0].addr_spec
    assert stranger.endswith("@qq.com")
    assert stranger not in {p.email for p in DEMO_PUBLICISTS}
    auto = _parse(by["auto_reply"].raw)
    assert auto["auto-submitted"] == "auto-replied"
    assert auto["subject"].startswith("自动回复")
    two = [s for s in june if s.drafts == 2]
    assert len(two) == 1
    assert len(_drafts(two[0])) == 2
    loose = [s for s in june if any(n.endswith(".docx") for n, _ in _attachments(s))]
    assert len(loose) == 1
    assert loose[0].expected == "accepted"


def test_demo_authors_and_senders_match_the_demo_config(june: list[SampleMessage], tmp_path: Path) -> None:
    """Every 撰稿人 names a configured unit (or alias) and every sender but the stranger is a publicist."""
    config = parse_config(tomllib.loads(_demo_config(tmp_path)))
    publicists = {p.email: p.unit for p in config.publicists}
    co_written = 0
    for sample in june:
        sender = _parse(sample.raw)["from"].addresses[0].addr_spec
        if sample.expected != "unknown_sender":
            assert publicists[sender] == sample.unit
        for paragraphs in _drafts(sample):
            for line in (t for t in paragraphs if t.startswith("撰稿人")):
                authors = re.split(r"[；;]", line[4:])
                co_written += len(authors) > 1
                for author in authors:
                    unit = re.split(r"[ (（]", author, maxsplit=1)[0]
                    assert config.unit_by_name(unit) is not None, author
    assert co_written >= 1


def _demo_config(tmp_path: Path) -> str:
    return demo_config_toml(
        imap_port=10143, smtp_port=10025, db_path=str(tmp_path / "demo.db"), raw_store=str(tmp_path / "raw")
    )


def test_demo_config_matches_the_shipped_config(tmp_path: Path) -> None:
    """The demo config has the shipped config's sections, keys and units, with loopback servers."""
    demo = tomllib.loads(_demo_config(tmp_path))
    shipped = tomllib.loads(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    assert demo.keys() == shipped.keys()
    for section in ("mailbox", "smtp", "database", "office", "limits"):
        assert demo[section].keys() == shipped[section].keys(), section
    assert demo["units"] == shipped["units"]
    assert demo["limits"] == shipped["limits"]
    config = parse_config(demo, path=tmp_path / "config.toml")
    assert (config.mailbox.host, config.mailbox.tls, config.mailbox.port) == ("127.0.0.1", False, 10143)
    assert (config.smtp.host, config.smtp.tls, config.smtp.port) == ("127.0.0.1", False, 10025)
    assert config.mailbox.user == config.smtp.user == MAILBOX
    assert config.mailbox.password_env == config.smtp.password_env == "XINBAO_DEMO_PASSWORD"
    assert config.database_url() == f"sqlite:///{tmp_path / 'demo.db'}"
    assert [(p.unit, p.name, p.email) for p in config.publicists] == [
        (p.unit, p.name, p.email) for p in DEMO_PUBLICISTS
    ]
    shipped_people = {(p["unit"], p["name"], p["email"]) for p in shipped["publicists"]}
    assert shipped_people <= {(p.unit, p.name, p.email) for p in config.publicists}
