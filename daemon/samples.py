"""Realistic submission mail built in code: drafts (.docx), photos (JPEG), GBK zips, 163-style messages.

Deterministic: every function takes its seed and dates as arguments and never reads the clock.
`demo_month` is the sample data of `xinbao demo`; `demo_config_toml` is the config it runs with.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import io
import json
import math
import random
import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import format_datetime
from typing import Literal, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

import chinese_calendar
import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

TZ = ZoneInfo("Asia/Shanghai")
Mailer = Literal["163", "foxmail", "thunderbird"]
_FIXED = datetime(2025, 1, 1, 8, 0, tzinfo=TZ)
DosTime = tuple[int, int, int, int, int, int]

# ---------------------------------------------------------------------------------------------- drafts


def make_docx(
    *,
    title: str,
    paragraphs: Sequence[str],
    signoff_lines: Sequence[str],
    heading_style: bool = True,
    author: str = "",
    created: datetime | None = None,
) -> bytes:
    """A government-information draft as publicists type it: title, body in 仿宋, the sign-off last."""
    document = copy.deepcopy(_blank())
    when = created or _FIXED
    props = document.core_properties
    props.author = props.last_modified_by = author
    props.created = props.modified = when
    props.title, props.comments = "", ""
    head = document.add_paragraph(style="Heading 1") if heading_style else document.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(head, title, "方正小标宋简体", 22, bold=not heading_style)
    for body in paragraphs:
        para = document.add_paragraph()
        para.paragraph_format.first_line_indent = Pt(32)
        para.paragraph_format.line_spacing = Pt(28)
        _run(para, body, "仿宋_GB2312", 16)
    document.add_paragraph()
    for line in signoff_lines:
        _run(document.add_paragraph(), line, "仿宋_GB2312", 16)
    buffer = io.BytesIO()
    document.save(buffer)
    return _restamp(buffer.getvalue(), when)


_DROPPED_PARTS = frozenset({"stylesWithEffects", "customXml", "webSettings", "thumbnail"})


@functools.cache
def _blank() -> docx.document.Document:
    document = docx.Document()
    # python-docx's template carries Word 2010 extras (effects styles, thumbnail, custom XML) that WPS
    # never writes; dropping them halves the time to build a draft. make_docx deep-copies this one.
    for rels in (document.part.rels, document.part.package.rels):
        for rel_id, rel in list(rels.items()):
            if rel.reltype.rsplit("/", 1)[-1] in _DROPPED_PARTS:
                rels.pop(rel_id)
    return document


def _run(paragraph: Paragraph, content: str, font: str, size: int, *, bold: bool = False) -> None:
    run = paragraph.add_run(content)
    run.font.name, run.font.size, run.font.bold = font, Pt(size), bold
    # Word takes CJK glyphs from w:eastAsia; python-docx's font.name sets only the Latin slots.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def _restamp(package: bytes, when: datetime) -> bytes:
    # python-docx stamps zip members with the current time; re-pack with a fixed one so output is stable.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, _dos_time(when))
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, src.read(info))
    return out.getvalue()


def _dos_time(when: datetime) -> DosTime:
    return (when.year, when.month, when.day, when.hour, when.minute, when.second - when.second % 2)


# ---------------------------------------------------------------------------------------------- photos

_ZIGZAG = (0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45,
    38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63)  # fmt: skip
# T.81 Annex K tables, scaled to quality 75 when written.
_Q_LUMA = (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)  # fmt: skip
_Q_CHROMA = (17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99) + (99,) * 36  # fmt: skip
_DC_SYMBOLS = tuple(range(12))
_POOL, _CELL = 31, 8
# Only short zero runs and small magnitudes are ever coded, so the Huffman tables carry just those.
_AC_SYMBOLS = (0x00, *((run << 4) | size for run in range(4) for size in range(1, 5)))


def make_jpeg(*, width: int, height: int, seed: int) -> bytes:
    """A valid baseline JPEG (JFIF, 4:4:4 YCbCr) of a noisy sky over ground; about 0.37 bytes a pixel.

    No image library: blocks are written straight as quantised coefficients (a smooth DC field plus
    random AC texture), so the size grows like a phone photo's and the file decodes anywhere.
    """
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not security)
    luma_tex, cb_tex, cr_tex, flat = _textures()
    kx, ky, phase, amp = (
        [rng.uniform(lo, hi) for _ in range(3)] for lo, hi in ((0.5, 3), (0.5, 3), (0, 6.3), (10, 30))
    )
    horizon = rng.uniform(0.35, 0.65)
    o, step = rng.randrange(_POOL), rng.randrange(1, _POOL)
    bw, bh = (width + 7) // 8, (height + 7) // 8
    dc, out, py, pcb, pcr = _DC_BITS, [], 0, 0, 0
    for by in range(bh):
        fy = by / bh
        sky = fy < horizon
        base = 200 - 60 * fy / horizon - 128 if sky else 110 - 40 * (fy - horizon) - 128
        cb, cr = (12, -5) if sky else (-8, 6)
        r0, r1, r2 = (6.3 * fy * ky[i] + phase[i] for i in range(3))
        # The DC field changes once per cell of _CELL blocks; the blocks after the first repeat its level.
        for bx in range(0, bw, _CELL):
            fx = 6.3 * bx / bw
            y = int(base + amp[0] * math.sin(fx * kx[0] + r0) + amp[1] * math.sin(fx * kx[1] + r1)
                    + amp[2] * math.sin(fx * kx[2] + r2))  # fmt: skip
            y = -120 if y < -120 else min(y, 120)
            o = (o + step) % _POOL
            out.append(dc[y - py] + luma_tex[o] + dc[cb - pcb] + cb_tex[o] + dc[cr - pcr] + cr_tex[o])
            out.extend(flat[o + 1 : o + min(_CELL, bw - bx)])
            py, pcb, pcr = y, cb, cr
    bits = "".join(out)
    bits += "1" * (-len(bits) % 8)  # T.81 F.1.2.3: pad the last byte with 1-bits
    scan = int(bits, 2).to_bytes(len(bits) // 8, "big").replace(b"\xff", b"\xff\x00")  # byte stuffing
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    return b"".join(
        (
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x01\x00\x48\x00\x48\x00\x00"),
            _segment(0xDB, b"\x00" + _quant(_Q_LUMA) + b"\x01" + _quant(_Q_CHROMA)),
            _segment(0xC0, sof),
            _dht(0x00, _DC_SYMBOLS, 4),
            _dht(0x10, _AC_SYMBOLS, 5),
            _dht(0x01, _DC_SYMBOLS, 4),
            _dht(0x11, _AC_SYMBOLS, 5),
            _segment(0xDA, b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"),
            scan,
            b"\xff\xd9",
        )
    )


@functools.cache
def _textures() -> tuple[list[str], list[str], list[str], list[str]]:
    """Coded AC blocks (Y, Cb, Cr) every photo draws its texture from, and whole MCUs with no DC change."""
    rng = random.Random(0x4A504547)  # noqa: S311 (synthetic data, not security)
    ac_codes = _codes(_AC_SYMBOLS, 5)

    def block(low: int, high: int) -> str:
        bits, k = [], 1
        for _ in range(rng.randint(low, high)):
            run = rng.randrange(4)
            if k + run > 62:
                break
            size, extra = _magnitude(rng.choice((-1, 1)) * rng.randrange(1, 12))
            bits.append(ac_codes[(run << 4) | size] + extra)
            k += run + 1
        return "".join(bits) + ac_codes[0]  # EOB

    luma, cb, cr = ([block(lo, hi) for _ in range(_POOL)] for lo, hi in ((8, 26), (0, 4), (0, 4)))
    zero = _DC_BITS[0]
    return luma, cb, cr, [zero + luma[i] + zero + cb[i] + zero + cr[i] for i in range(_POOL)] * 2


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _quant(table: tuple[int, ...]) -> bytes:
    return bytes(max(1, min(255, (table[z] * 50 + 50) // 100)) for z in _ZIGZAG)


def _codes(symbols: tuple[int, ...], length: int) -> dict[int, str]:
    # Canonical codes (T.81 Annex C) all of one length; fewer symbols than codes, so none is all 1-bits.
    return {s: format(i, f"0{length}b") for i, s in enumerate(symbols)}


def _dht(table: int, symbols: tuple[int, ...], length: int) -> bytes:
    counts = [0] * 16
    counts[length - 1] = len(symbols)
    return _segment(0xC4, bytes([table, *counts, *symbols]))


def _magnitude(value: int) -> tuple[int, str]:
    size = abs(value).bit_length()
    extra = value if value > 0 else value + (1 << size) - 1
    return size, format(extra, f"0{size}b") if size else ""


_DC_BITS = {d: _codes(_DC_SYMBOLS, 4)[_magnitude(d)[0]] + _magnitude(d)[1] for d in range(-255, 256)}


# -------------------------------------------------------------------------------------------- archives


class _GbkZipInfo(zipfile.ZipInfo):
    # WinRAR and 360压缩 on Chinese Windows write names in the ANSI code page (GBK) with general-purpose
    # bit 11 (UTF-8) clear. zipfile encodes any non-ASCII name as UTF-8 and sets the bit, in both the
    # local and the central header, through this one method; so override it.
    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 (zipfile's name)
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def make_zip(
    files: Sequence[tuple[str, bytes]], *, gbk_names: bool = True, modified: datetime | None = None
) -> bytes:
    """A zip as Chinese Windows tools make it: GBK names without the UTF-8 flag, folder entries first.

    With `gbk_names=False`, names are UTF-8 with the flag set (7-Zip, Bandizip, macOS).
    """
    stamp = _dos_time(modified or _FIXED)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        seen: set[str] = set()
        for name, data in files:
            parts = name.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth]) + "/"
                if folder not in seen:
                    seen.add(folder)
                    archive.writestr(_zipinfo(folder, stamp, gbk_names, 0x10), b"")
            # Photos are stored, not deflated, as Bandizip and 360压缩 do with already-compressed files.
            method = zipfile.ZIP_STORED if name.lower().endswith(_STORED) else zipfile.ZIP_DEFLATED
            archive.writestr(_zipinfo(name, stamp, gbk_names, 0x20), data, method)
    return out.getvalue()


_STORED = (".jpg", ".jpeg", ".png", ".zip", ".rar", ".7z")


def _zipinfo(name: str, stamp: DosTime, gbk: bool, dos_attr: int) -> zipfile.ZipInfo:
    info = (_GbkZipInfo if gbk else zipfile.ZipInfo)(name, stamp)
    info.create_system = 0  # MS-DOS: the attributes below are FILE_ATTRIBUTE_DIRECTORY / _ARCHIVE
    info.external_attr = dos_attr
    return info


# -------------------------------------------------------------------------------------------- messages

_MAILER_HEADERS: dict[str, tuple[tuple[str, str], ...]] = {
    "163": (
        ("X-Priority", "3"),
        ("X-Mailer", "Coremail Webmail Server Version XT5.0.14 build 20240801(9da12a7b)"),
        ("X-Coremail-Locale", "zh_CN"),
    ),
    "foxmail": (
        ("X-Priority", "3"),
        ("X-GUID", "7A1C2B6E-3D4F-4A5B-9C8D-0E1F2A3B4C5D"),
        ("X-Has-Attach", "yes"),
        ("X-Mailer", "Foxmail 7.2.25.375[cn]"),
    ),
    "thunderbird": (("User-Agent", "Mozilla Thunderbird"), ("Content-Language", "zh-CN")),
}
_TYPES = {
    ".zip": "application/x-zip-compressed",
    ".rar": "application/octet-stream",
    ".7z": "application/octet-stream",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
DEFAULT_BODY = "您好！\n附件是本单位报送的政务信息稿件及照片，已经初审、复审，请审阅。\n谢谢！"


def make_submission_email(
    *,
    sender: str,
    sender_name: str,
    to: str,
    subject: str,
    date: datetime,
    attachments: Sequence[tuple[str, bytes]],
    body: str = DEFAULT_BODY,
    gbk_headers: bool = False,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    mailer: Mailer = "163",
    extra_headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """One message as a mail client sends it (CRLF, base64 parts), with the attachment names encoded
    the way that client does: RFC 2047 words in quotes (163 webmail, Foxmail) or RFC 2231 (Thunderbird).

    `gbk_headers` uses GBK (Foxmail: labelled gb2312 when the text fits) for headers and body text.
    """
    if not gbk_headers:
        charset = "UTF-8"
    elif mailer == "foxmail" and _fits(
        "".join((subject, sender_name, body, *(n for n, _ in attachments))), "gb2312"
    ):
        charset = "gb2312"
    else:
        charset = "GBK"
    digest = hashlib.sha256(
        "|".join((sender, subject, date.isoformat(), *(n for n, _ in attachments))).encode()
        + b"".join(hashlib.sha256(d).digest() for _, d in attachments)
    ).hexdigest()
    message_id = message_id or _message_id(mailer, sender, digest, date)
    headers = [
        ("Date", format_datetime(date)),
        ("From", f"{_words(sender_name, charset)} <{sender}>"),
        ("To", to),
        ("Subject", _words(subject, charset)),
        ("Message-ID", message_id),
    ]
    if in_reply_to:
        headers += [("In-Reply-To", in_reply_to), ("References", in_reply_to)]
    headers += [*_MAILER_HEADERS[mailer], *extra_headers, ("MIME-Version", "1.0")]
    text_part = _text_part(body, charset, f"----=_Part_{int(digest[8:14], 16)}_{int(digest[14:22], 16)}.alt")
    if attachments:
        boundary = f"----=_Part_{int(digest[:6], 16)}_{int(digest[22:30], 16)}.{int(digest[30:38], 16)}"
        headers.append(("Content-Type", f'multipart/mixed; \r\n\tboundary="{boundary}"'))
        parts = [text_part] + [_attachment(n, d, charset, mailer) for n, d in attachments]
        payload = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
        raw = (
            "".join(f"{k}: {v}\r\n" for k, v in headers)
            + "\r\nThis is a multi-part message in MIME format.\r\n\r\n"
            + payload
        )
    else:
        raw = "".join(f"{k}: {v}\r\n" for k, v in headers) + text_part
    return raw.encode("ascii")


def _fits(value: str, codec: str) -> bool:
    try:
        value.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _message_id(mailer: str, sender: str, digest: str, when: datetime) -> str:
    domain = sender.rsplit("@", 1)[-1]
    if mailer == "163":
        return f"<{digest[:8]}.{digest[8:11]}.{int(digest[11:22], 16) % 10**13}.Coremail.{sender}>"
    if mailer == "foxmail":
        return f"<{when.strftime('%Y%m%d%H%M%S')}{int(digest[:10], 16) % 10**7:07d}@{domain}>"
    return f"<{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}@{domain}>"


def _words(value: str, charset: str) -> str:
    """RFC 2047 B-encoded words, each under 75 characters (§2), folded onto continuation lines."""
    if value.isascii():
        return value
    codec = charset.lower()
    chunks, chunk = [], ""
    for ch in value:
        if len((chunk + ch).encode(codec)) > 42:
            chunks.append(chunk)
            chunk = ""
        chunk += ch
    chunks.append(chunk)
    return "\r\n ".join(_word(c, charset) for c in chunks)


def _word(value: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(value.encode(charset.lower())).decode()}?="


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")


def _text_part(body: str, charset: str, boundary: str) -> str:
    codec = charset.lower()
    html = "<div>" + "</div><div>".join(body.splitlines()) + "</div>"
    plain = body.replace("\n", "\r\n")
    parts = [
        (f"text/plain; charset={charset}", _b64(plain.encode(codec))),
        (f"text/html; charset={charset}", _b64(html.encode(codec))),
    ]
    inner = "".join(
        f"--{boundary}\r\nContent-Type: {t}\r\nContent-Transfer-Encoding: base64\r\n\r\n{p}\r\n"
        for t, p in parts
    )
    return (
        f'Content-Type: multipart/alternative; \r\n\tboundary="{boundary}"\r\n\r\n{inner}--{boundary}--\r\n'
    )


def _attachment(name: str, data: bytes, charset: str, mailer: str) -> str:
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    ctype = _TYPES.get(suffix, "application/octet-stream")
    if mailer == "thunderbird" and not name.isascii():
        # RFC 2231 §3-4: percent-encoded UTF-8, split into numbered continuations as Thunderbird does.
        encoded = quote(name.encode("utf-8"), safe="")
        pieces, i = [], 0
        while i < len(encoded):
            end = min(len(encoded), i + 60)
            end -= 1 if encoded[end - 1 : end] == "%" else 2 if encoded[end - 2 : end - 1] == "%" else 0
            pieces.append(encoded[i:end])
            i = end
        pieces[0] = "UTF-8''" + pieces[0]
        numbered = [f"*{n}*" for n in range(len(pieces))] if len(pieces) > 1 else ["*"]
        filename = ";".join(f"\r\n filename{k}={p}" for k, p in zip(numbered, pieces, strict=True))
        shown = f'"{_word(name, "UTF-8")}"'
    else:
        # 163 and Foxmail put one encoded word inside quotes, which RFC 2047 §5 forbids but readers accept.
        shown = f'"{name if name.isascii() else _word(name, charset)}"'
        filename = f"\r\n\tfilename={shown}"
    return (
        f"Content-Type: {ctype}; \r\n\tname={shown}\r\n"
        f"Content-Transfer-Encoding: base64\r\n"
        f"Content-Disposition: attachment;{filename}\r\n\r\n{_b64(data)}"
    )


# ------------------------------------------------------------------------------------ demo units and config

MAILBOX = "pjyjjbgs@163.com"


def _rows(block: str) -> list[list[str]]:
    return [line.split("|") for line in block.strip().splitlines()]


# The Panjin units of the shipped config.toml: name | group | aliases.
PANJIN_UNITS: tuple[tuple[str, str, tuple[str, ...]], ...] = tuple(
    (name, group, tuple(aliases.split("、")))
    for name, group, aliases in _rows("""
盘山县应急管理局|county|盘山县应急局、盘山县
大洼区应急管理局|county|大洼区应急局、大洼区
双台子区应急管理局|county|双台子区应急局、双台子区
兴隆台区应急管理局|county|兴隆台区应急局、兴隆台区
辽滨经开区应急管理部|county|辽滨经济技术开发区应急管理部、辽东湾应急管理部、辽滨应急管理部
高新区应急管理部|county|高新技术产业开发区应急管理部、高新区
局办公室|department|办公室
宣教科|department|宣传教育科
法规科|department|政策法规科
综合科|department|综合协调科
危化科|department|危险化学品安全监督管理科、危化品科
非煤科|department|非煤矿山安全监督管理科
制造业监管科|department|制造业科、工贸科
防灾减灾科|department|防灾减灾救灾科
防汛抗旱科|department|防汛科
地质灾害保障科|department|地质科
救灾物资保障科|department|物资保障科
地震办|department|地震办公室
应急指挥中心|department|指挥中心
综合行政执法队|department|执法支队、执法队、综合行政执法支队
应急服务中心|department|服务中心、中心办公室
""")
)

_PLACES = {
    "盘山县": "太平镇 沙岭镇 高升街道 得胜街道 胡家镇 石新镇 坝墙子镇",
    "大洼区": "田家街道 榆树街道 赵圈河镇 西安镇 新兴镇 清水镇 东风镇",
    "双台子区": "红旗街道 建设街道 胜利街道 铁东街道 辽河街道 双盛街道",
    "兴隆台区": "振兴街道 兴隆街道 渤海街道 友谊街道 曙光街道 新工街道 惠宾街道",
    "辽滨": "荣兴街道 辽滨街道 临港工业区 石化及精细化工产业园区",
    "全市": "田家街道 榆树街道 太平镇 高升街道 红旗街道 胜利街道 兴隆街道 渤海街道 石化及精细化工产业园区",
}


@dataclass(frozen=True)
class DemoPublicist:
    """A demo unit's publicist, a colleague who co-writes, and who reviews the unit's drafts."""

    unit: str
    name: str
    email: str
    phone: str
    mailer: Mailer
    gbk: bool
    colleague: str
    first_reviewer: str
    second_reviewer: str
    # What a county bureau's publicist writes in parentheses after the unit (附件3: "XX单位(科室)XXX").
    section: str
    # How the drafts name the unit: county bureaus by their own name, departments as 市应急局.
    press: str
    places: tuple[str, ...]


# unit | name | email | phone | mailer | GBK headers | colleague | 初审人 | 复审人 | section | press | area
def _publicist(row: list[str]) -> DemoPublicist:
    unit, name, email, phone, mailer, charset, colleague, first, second, section, press, area = row
    return DemoPublicist(
        unit, name, email, phone, cast(Mailer, mailer), charset == "GBK", colleague, first, second, section,
        press or unit, tuple(_PLACES[area].split()),
    )  # fmt: skip


DEMO_PUBLICISTS: tuple[DemoPublicist, ...] = tuple(
    _publicist(row)
    for row in _rows("""
危化科|王强|wangqiang.wh@163.com|0427-2812301|163|UTF-8|李明|孙建华|高志远||市应急局|全市
盘山县应急管理局|李娜|psxyjj_xx@163.com|0427-3523016|foxmail|GBK|陈晓东|刘志刚|马红梅|办公室||盘山县
大洼区应急管理局|张伟|dwqyjj@163.com|0427-6851127|163|GBK|孙丽|郭振宇|何建平|综合科||大洼区
综合行政执法队|赵敏|zhaomin.zf@163.com|0427-2812356|163|UTF-8|黄磊|韩东|曹永胜||市应急局综合行政执法队|全市
宣教科|刘洋|liuyang.xj@163.com|0427-2812318|thunderbird|UTF-8|杨雪|周海燕|冯立新||市应急局|全市
双台子区应急管理局|陈静|stzqyjj@163.com|0427-2269305|foxmail|GBK|吴昊|许国庆|邓玉兰|办公室||双台子区
兴隆台区应急管理局|孙磊|xltqyjj_xc@163.com|0427-2635520|163|UTF-8|朱琳|罗文斌|梁春生|宣传科||兴隆台区
辽滨经开区应急管理部|周婷|lbyjglb@126.com|0427-5857012|163|UTF-8|徐斌|宋涛|谢振华|综合办||辽滨
防汛抗旱科|吴刚|wugang.fx@163.com|0427-2812342|163|GBK|林芳|唐国栋|冯立新||市应急局|全市
应急指挥中心|郑洁|zhengjie.zh@163.com|0427-2812370|thunderbird|UTF-8|何磊|董建军|高志远||市应急局应急指挥中心|全市
""")
)

_DEMO_CONFIG = """\
# xinbao demo configuration, generated by daemon.samples.demo_config_toml: loopback mail servers.
timezone = "Asia/Shanghai"

[mailbox]
host = "127.0.0.1"
port = {imap_port}
tls = false
user = "{mailbox}"
password_env = "XINBAO_DEMO_PASSWORD"
folder = "INBOX"
poll_seconds = 5
batch_size = 20
mark = "flag"
keyword = "XinbaoDone"
done_folder = "已处理"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = false
user = "{mailbox}"
password_env = "XINBAO_DEMO_PASSWORD"
daily_cap_per_recipient = 20

[database]
url = {url}
raw_store = {raw_store}

[office]
name = "盘锦市应急管理局办公室"
bureau = "盘锦市应急管理局"
emails = ["pjyjjbgs-office@example.cn"]

[limits]
max_message_bytes = 52428800
max_archive_members = 200
max_member_bytes = 104857600
max_total_bytes = 314572800
max_ratio = 200.0
max_depth = 2
max_seconds = 60.0
convert_timeout = 60.0

[verify]
authserv_ids = ["163.com", "*.163.com", "*.mail.163.com"]
dkim = false                             # loopback only: the embedded server stamps its verdict
require_verified_publicists = true

[scoring]
profile = "panjin-2025"
columns_from = 2025-06-01               # the demo month: its column (栏目) shortfalls are judged

[calendar]
holidays = []
workdays = []

[schedule]
enabled = true
weekly_reminder = "15:00"
monthly_notice = "09:00"

[notice]
order = "config"
praise = 3
"""


# The 约稿 the demo's office registers on the month's first day: topic, deadline day, target units.
DEMO_SOLICITATION: tuple[str, int, tuple[str, ...]] = ("汛期安全", 20, ("危化科", "防汛抗旱科"))


def demo_config_toml(*, imap_port: int, smtp_port: int, db_path: str, raw_store: str) -> str:
    """The config.toml `xinbao demo` runs with: loopback servers, the Panjin units, the demo publicists."""

    def q(value: object) -> str:  # a JSON string or array is also a TOML basic string or array
        return json.dumps(value, ensure_ascii=False)

    text = _DEMO_CONFIG.format(
        imap_port=imap_port,
        smtp_port=smtp_port,
        mailbox=MAILBOX,
        url=q("sqlite:///" + db_path),
        raw_store=q(raw_store),
    )
    for name, group, aliases in PANJIN_UNITS:
        text += f"\n[[units]]\nname = {q(name)}\ngroup = {q(group)}\naliases = {q(aliases)}\n"
    for p in DEMO_PUBLICISTS:
        text += f"\n[[publicists]]\nunit = {q(p.unit)}\nname = {q(p.name)}\nemail = {q(p.email)}\nphone = {q(p.phone)}\n"
    return text


# ------------------------------------------------------------------------------------------ phrase bank

# category | title template. Slots: {u} the unit as drafts name it, {place}, {comm}, {co}, {season}.
_TITLES = _rows("""
inspect|{u}开展{season}安全生产大检查
inspect|{u}对{co}开展安全生产执法检查
inspect|{u}扎实推进危险化学品企业安全风险隐患专项整治
inspect|{u}深入{place}开展燃气安全专项排查整治
inspect|{u}开展有限空间作业安全专项检查
inspect|{u}深入{place}督导检查{season}安全生产工作
drill|{u}组织开展防汛抢险应急演练
drill|{u}联合{co}开展危化品泄漏事故应急处置演练
drill|{u}在{comm}开展地震应急疏散演练
drill|{u}开展应急救援队伍拉动演练
publicity|{u}深入{place}开展消防安全宣传活动
publicity|应急科普进社区 安全知识入人心——{u}走进{comm}
publicity|{u}开展“安全生产月”集中宣传咨询日活动
publicity|{u}开展防灾减灾科普宣传进校园活动
duty|{u}召开汛期值班值守工作部署会
duty|{u}深入{place}督导防汛备汛工作
duty|{u}开展防汛物资储备情况检查
meeting|{u}召开安全生产形势分析会
meeting|{u}召开危化企业安全生产约谈会
meeting|{u}举办安全生产执法业务培训班
party|{u}党支部开展主题党日活动
party|{u}开展“以案说法”警示教育活动
""")
# category | what the unit did (first paragraph, after the opening and the date)
_ACTIONS = _rows("""
inspect|深入{place}，对{co}等{n1}家企业开展安全生产检查
inspect|对辖区{n1}家重点企业开展“四不两直”暗查暗访
drill|在{co}组织开展{scenario}应急演练
drill|组织{n1}余名救援队员在{place}开展{scenario}实战演练
publicity|在{comm}开展应急科普宣传活动
publicity|走进{place}，开展安全知识“进企业、进社区、进校园”宣传活动
duty|深入{place}检查防汛备汛和值班值守工作
duty|召开专题会议，对汛期值班值守和应急准备工作进行再部署
meeting|召开专题会议，{n1}家重点企业主要负责人参加
meeting|组织召开会议，通报近期安全生产工作情况
party|组织党员干部{n1}余人赴{place}开展主题党日活动
party|组织全体党员干部开展警示教育学习
""")
# category | a detail paragraph
_DETAILS = _rows("""
inspect|检查组采取查阅资料、现场查看、询问员工等方式，重点检查了{items}等情况。
inspect|此次检查共发现各类安全隐患{n2}处，已现场督促整改{n3}处，对其余隐患下达了责令限期整改指令书，明确整改责任、措施和时限，确保隐患整改闭环。
inspect|检查中，检查组要求企业主要负责人切实履行安全生产第一责任人职责，{demand}。
inspect|针对发现的问题，{u}建立问题清单和整改责任清单，实行销号管理，并将适时开展“回头看”，对整改不到位的企业依法严肃处理。
drill|演练模拟{scenario}，现场指挥部接报后迅速启动应急预案，依次开展了{steps}等科目。
drill|各参演单位分工明确、协同有序，共出动救援车辆{n2}台、参演人员{n1}余人，达到了预期效果。
drill|演练结束后，{u}对演练情况进行了现场点评，针对暴露出的{weak}等问题提出了改进意见。
publicity|活动现场，工作人员通过设置咨询台、悬挂宣传条幅、发放宣传资料、现场讲解等方式，向群众普及了{knowledge}等知识。
publicity|本次活动共发放宣传资料{n2}余份，解答群众咨询{n3}余人次，营造了“人人讲安全、个个会应急”的良好氛围。
publicity|工作人员还结合典型事故案例，现场演示了灭火器使用和心肺复苏等技能，引导群众参与互动体验。
duty|检查组实地查看了{facilities}，详细了解防汛物资储备、抢险队伍组建和应急预案修订等情况。
duty|会议强调，要严格执行24小时值班和领导带班制度，值班人员必须在岗在位，确保信息报送及时准确、渠道畅通。
duty|截至目前，已储备编织袋{n2}条、救生衣{n3}件、抽水泵{n1}台，各类防汛物资储备充足。
meeting|会议通报了近期全市安全生产形势和典型事故案例，分析研判了当前面临的风险隐患。
meeting|会议要求，各企业要{demand}，坚决防范遏制各类生产安全事故发生。
meeting|与会企业负责人逐一汇报了本单位隐患排查整改情况，并作出了安全生产承诺。
party|党员干部重温了入党誓词，集中学习了《中华人民共和国安全生产法》等法律法规。
party|大家纷纷表示，要以案为鉴、警钟长鸣，把学习成效转化为做好应急管理工作的实际行动。
party|活动中，{u}还结合典型案例开展了廉政警示教育，引导党员干部守纪律、讲规矩。
""")
# slot | choices, separated by 、 (openings, leads and closings are whole phrases)
_BANK = {k: v.split("、") for k, v in _rows("""
items|安全生产责任制落实、隐患排查治理、特种作业人员持证上岗、应急预案编制及演练、消防设施器材配备、危险化学品储存管理、有限空间作业审批、动火作业管理、安全警示标识设置、双重预防机制运行
demand|全面落实全员安全生产责任制、持续深化隐患排查治理、严格执行特殊作业审批制度、加强从业人员安全教育培训、强化重大危险源安全管控
scenario|储罐区火灾事故、危险化学品泄漏事故、城市内涝险情、河道堤防管涌险情、人员密集场所火灾
steps|接警响应、先期处置、人员疏散、警戒隔离、伤员救治、抢险堵漏、环境监测、舆情引导
weak|信息报送不够及时、现场协同配合不够顺畅、个人防护装备使用不够规范
knowledge|防汛避险、燃气安全、家庭消防、地震逃生、电动自行车安全、防溺水、高温中暑防范
facilities|防汛物资储备库、排涝泵站、堤防险工险段、下穿桥涵、在建工地基坑
co|盘锦辽河化工有限公司、盘锦兴海石化有限公司、辖区某燃气公司、盘锦润达精细化工有限公司、辽河油田某采油作业区、辖区某危化品仓储企业
comm|幸福社区、光明社区、和平社区、兴盛社区、锦绣社区、惠民社区
lead|主要负责同志带队、分管领导带领相关人员、相关科室负责同志一行、联合属地街道（镇）、会同行业主管部门
""")}  # fmt: skip
_OPENINGS = _rows("""
为深入贯彻落实市委、市政府关于安全生产工作的决策部署，
为进一步压实企业安全生产主体责任，有效防范化解重大安全风险，
为切实做好{season}各项安全防范工作，确保人民群众生命财产安全，
为持续提升群众安全意识和自救互救能力，
为扎实推进安全生产治本攻坚三年行动，
按照全市应急管理工作总体部署，
为进一步增强应急处置能力，检验应急预案的科学性和可操作性，
""")
_CLOSINGS = _rows("""
下一步，{u}将持续加大监督检查力度，坚决守牢安全生产底线，为全市经济社会高质量发展营造安全稳定的环境。
下一步，{u}将进一步完善应急预案体系，强化队伍建设和物资保障，全面提升应急处置能力。
下一步，{u}将常态化开展应急科普宣传，不断提升群众防灾减灾意识和自救互救能力。
{u}将以此次活动为契机，持续抓好各项工作落实，切实保障人民群众生命财产安全。
""")
_SEASONS = {1: "春节前后", 2: "春节前后", 6: "汛期", 7: "主汛期", 8: "主汛期", 9: "国庆节前", 12: "岁末年初"}


def _draft_text(rng: random.Random, pub: DemoPublicist, day: date) -> tuple[str, list[str]]:
    """A title and 2-5 body paragraphs about one piece of the unit's work around `day`."""
    category, title = rng.choice(_TITLES)
    slots = {k: rng.choice(v) for k, v in _BANK.items()}
    slots.update(
        u=pub.press,
        season=_SEASONS.get(day.month, "夏季" if day.month < 9 else "秋冬季"),
        place=rng.choice(pub.places),
        comm=rng.choice(pub.places[:3]) + slots["comm"],
        n1=str(rng.randrange(5, 60)),
        n2=str(rng.randrange(20, 300)),
        n3=str(rng.randrange(10, 200)),
        items="、".join(rng.sample(_BANK["items"], 4)),
        steps="、".join(rng.sample(_BANK["steps"], 4)),
    )
    action = rng.choice([a for c, a in _ACTIONS if c == category])
    opening = rng.choice(_OPENINGS)[0]
    body = [f"{opening}{day.month}月{day.day}日，{{u}}{slots['lead']}，{action}。"]
    body += rng.sample([d for c, d in _DETAILS if c == category], rng.randint(1, 3))
    if rng.random() < 0.7:
        body.append(rng.choice(_CLOSINGS)[0])
    return title.format(**slots), [p.format(**slots) for p in body]


Signoff = Literal["full", "no_second_reviewer", "no_author"]


def _author(rng: random.Random, pub: DemoPublicist, name: str) -> str:
    """One author as publicists write it: the unit (or an alias; a county's 科室 in parentheses), the name."""
    aliases = next(a for n, _, a in PANJIN_UNITS if n == pub.unit)
    unit = rng.choice((pub.unit, pub.unit, aliases[0]))
    if pub.section and rng.random() < 0.6:
        return f"{unit}({pub.section}){name}" if rng.random() < 0.5 else f"{unit}（{pub.section}）{name}"
    return f"{unit} {name}"


def _signoff(
    rng: random.Random, pub: DemoPublicist, kind: Signoff, coauthor: DemoPublicist | None
) -> list[str]:
    """附件3's last lines: 撰稿人 (co-authors of other units after ；, a colleague after 、), then reviewers."""
    colon = rng.choice((":", "："))
    writers = _author(rng, pub, pub.name)
    if coauthor is not None:
        writers += "；" + _author(rng, coauthor, coauthor.name)
    elif rng.random() < 0.15:
        writers += f"、{pub.colleague}"
    lines = [] if kind == "no_author" else [f"撰稿人{colon}{writers}"]
    first, second = f"初审人{colon}{pub.first_reviewer}", f"复审人{colon}{pub.second_reviewer}"
    if kind == "no_second_reviewer":
        return [*lines, first]
    if rng.random() < 0.6:
        return [*lines, first + rng.choice(("    ", "　　", "  ")) + second]
    return [*lines, first, second]


# --------------------------------------------------------------------------------------------- the month


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
