"""Hostile mail built in code: malformed MIME, archive and entity bombs, pixel bombs, forged headers.

Everything is deterministic and cheap to build: a gigabyte of zeros is one deflate block repeated,
never a gigabyte in memory. The honest pieces (a signed draft, a photo, a 163-style message) come
from daemon.samples so the hostile ones differ from real mail only where they mean to.
"""

from __future__ import annotations

import base64
import functools
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from daemon.samples import make_docx, make_jpeg, make_submission_email, make_zip

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "real"
CST = timezone(timedelta(hours=8))
WHEN = datetime(2025, 6, 20, 9, 30, tzinfo=CST)
SENDER = "wangqiang.wh@163.com"
MAILBOX = "pjyjjbgs@163.com"
TITLE = "危化企业专项检查"
BODY = ["6月19日，市应急局组织开展危化企业专项检查，共检查企业12家，发现并督促整改隐患23项。"]
SIGNED = ["撰稿人：危化科 王强", "初审人：刘洋    复审人：陈静"]
MIB = 1024 * 1024
CRLF = b"\r\n"

# ---------------------------------------------------------------------------------------- honest parts


@functools.cache
def draft(title: str = TITLE) -> bytes:
    """A signed draft as a publicist sends it: title, one paragraph, 撰稿人/初审人/复审人."""
    return make_docx(title=title, paragraphs=BODY, signoff_lines=SIGNED)


@functools.cache
def photo(seed: int = 1) -> bytes:
    """A small real JPEG."""
    return make_jpeg(width=32, height=24, seed=seed)


@functools.cache
def package() -> bytes:
    """The usual attachment: a GBK-named zip of one draft and one photo."""
    return make_zip([(f"稿件/{TITLE}.docx", draft()), ("稿件/现场.jpg", photo())])


def submission(*attachments: tuple[str, bytes]) -> bytes:
    """A 163 webmail message from the publicist carrying the given attachments (the usual zip if none)."""
    return make_submission_email(
        sender=SENDER,
        sender_name="王强",
        to=MAILBOX,
        subject="危化科信息",
        date=WHEN,
        attachments=attachments or (("危化科信息.zip", package()),),
    )


def with_headers(raw: bytes, *lines: bytes, replace: Sequence[bytes] = ()) -> bytes:
    """A message with header lines put in front and the named headers (b"From") taken out."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    kept = [h for h in _unfolded(head) if not any(h.lower().startswith(r.lower() + b":") for r in replace)]
    return CRLF.join([*lines, *kept]) + sep + body


def _unfolded(head: bytes) -> list[bytes]:
    fields: list[bytes] = []
    for line in head.split(CRLF):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += CRLF + line
        else:
            fields.append(line)
    return fields


# ------------------------------------------------------------------------------------ hand-built MIME


def eml(*headers: str | bytes, body: bytes = b"") -> bytes:
    """A message from header lines (str, or raw bytes for 8-bit headers) and a body, CRLF-joined."""
    lines = [h if isinstance(h, bytes) else h.encode() for h in headers]
    return CRLF.join(lines) + CRLF + CRLF + body


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", CRLF)


def attachment(
    name: str,
    data: bytes,
    ctype: str = "application/octet-stream",
    *,
    damage: Callable[[bytes], bytes] | None = None,
) -> bytes:
    """A base64 attachment part, the name as a plain quoted parameter; `damage` edits the base64 text."""
    text = b64(data)
    return eml(
        f'Content-Type: {ctype}; name="{name}"',
        "Content-Transfer-Encoding: base64",
        f'Content-Disposition: attachment; filename="{name}"',
        body=damage(text) if damage else text,
    )


def text_part(content: str = "附件是本单位报送的稿件，请审阅。") -> bytes:
    return eml(
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        body=b64(content.encode()),
    )


def multipart_body(parts: Sequence[bytes], boundary: bytes = b"==b1==", *, close: bool = True) -> bytes:
    body = b"".join(b"--" + boundary + CRLF + p + CRLF for p in parts)
    return body + (b"--" + boundary + b"--" + CRLF if close else b"")


def headers(*extra: str) -> list[str]:
    """The envelope headers of a plain publicist message, followed by `extra`."""
    return [
        f"From: 王强 <{SENDER}>",
        f"To: {MAILBOX}",
        "Subject: 危化科信息",
        "Date: Fri, 20 Jun 2025 09:30:00 +0800",
        "Message-ID: <hostile.1@163.com>",
        "MIME-Version: 1.0",
        *extra,
    ]


def mixed(
    *parts: bytes,
    boundary: bytes = b"==b1==",
    content_type: str | None = None,
    close: bool = True,
    before: Sequence[str | bytes] = (),
    after: Sequence[str | bytes] = (),
) -> bytes:
    """A publicist's multipart/mixed message around `parts`, with header lines put before or after."""
    ctype = content_type or f'Content-Type: multipart/mixed; boundary="{boundary.decode("latin-1")}"'
    lines: list[str | bytes] = [*before, *headers(ctype), *after]
    return eml(*lines, body=multipart_body(parts, boundary, close=close))


def zip_part(*, damage: Callable[[bytes], bytes] | None = None) -> bytes:
    """The attachment part of the usual zip, its base64 text edited by `damage`."""
    return attachment("危化科信息.zip", package(), "application/zip", damage=damage)


def encoded_word(text: str | bytes, charset: str = "utf-8") -> str:
    data = text.encode(charset) if isinstance(text, str) else text
    return f"=?{charset}?b?{base64.b64encode(data).decode()}?="


def corpus(name: str) -> bytes | None:
    """A file of the shared real-world corpus, or None where the corpus is not checked out."""
    path = CORPUS / name
    return path.read_bytes() if path.is_file() else None


# -------------------------------------------------------------------------------------------- archives


def deflate_zeros(size: int, *, block: int = MIB) -> bytes:
    """A raw deflate stream of `size` zero bytes, about 1 KB per MiB, built without the zeros.

    Z_FULL_FLUSH resets the compressor, so the bytes it emits for one MiB of zeros are the same
    wherever they sit in the stream: one block is compressed, then repeated.
    """
    unit = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = unit.compress(bytes(block)) + unit.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(size, block)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    return one * whole + tail.compress(bytes(rest)) + tail.flush()


@dataclass(frozen=True)
class RawMember:
    """A zip member written byte for byte: whatever sizes and CRC it claims are written as claimed."""

    name: str
    data: bytes  # as stored: deflated bytes when method is 8
    method: int
    crc: int
    size: int


_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_DOS_DATE, _DOS_TIME = ((2025 - 1980) << 9) | (6 << 5) | 20, 9 << 11
# (name, method, crc, compressed size, size, local header offset) of one central-directory entry.
_Entry = tuple[bytes, int, int, int, int, int]


def _local(name: bytes, method: int, crc: int, packed: int, size: int) -> bytes:
    return (
        _LOCAL.pack(b"PK\x03\x04", 20, 0x800, method, _DOS_TIME, _DOS_DATE, crc, packed, size, len(name), 0)
        + name
    )


def _directory(entries: Sequence[_Entry], *, at: int, declared_entries: int | None = None) -> bytes:
    central = b"".join(
        _CENTRAL.pack(b"PK\x01\x02", 20, 20, 0x800, method, _DOS_TIME, _DOS_DATE, crc, packed, size,
                      len(name), 0, 0, 0, 0, 0, offset) + name
        for name, method, crc, packed, size, offset in entries
    )  # fmt: skip
    count = len(entries) if declared_entries is None else declared_entries
    return central + _END.pack(b"PK\x05\x06", 0, 0, count, count, len(central), at, 0)


def raw_zip(members: Sequence[RawMember], *, declared_entries: int | None = None) -> bytes:
    """A zip whose every field is what the members say, true or not (sizes, CRCs, entry count)."""
    out = bytearray()
    entries: list[_Entry] = []
    for m in members:
        name = m.name.encode()
        entries.append((name, m.method, m.crc, len(m.data), m.size, len(out)))
        out += _local(name, m.method, m.crc, len(m.data), m.size) + m.data
    return bytes(out) + _directory(entries, at=len(out), declared_entries=declared_entries)


def lying_zip(
    *, name: str, inflates_to: int, declares: int, extra: Sequence[tuple[str, bytes]] = ()
) -> bytes:
    """A member whose directory entry says `declares` bytes while its deflate stream holds `inflates_to`.

    The CRC is that of the first `declares` zero bytes: the best a liar can do to pass a reader
    that stops at the declared size.
    """
    bomb = RawMember(name, deflate_zeros(inflates_to), 8, zlib.crc32(bytes(declares)), declares)
    return raw_zip([*(_deflated(n, d) for n, d in extra), bomb])


def overlap_bomb(*, files: int, kernel: int) -> bytes:
    """David Fifield's overlapping-entry zip bomb (WOOT 2019), quoted-overlap construction.

    On disk: header 0, a 5-byte stored-block opener quoting header 1, header 1, …, header N-1, then
    one deflated kernel of zeros. Member i's deflate stream is everything after its header: the
    quoted headers come out as data, then the shared kernel. Sizes and CRCs are all true.
    """
    names = [f"照片{i:04d}.jpg".encode() for i in range(files)]
    kernel_data = deflate_zeros(kernel)
    packed, size, crc = len(kernel_data), kernel, _zero_crc(kernel)
    headers: list[bytes] = []
    fields: list[tuple[int, int, int]] = []
    for name in reversed(names):
        header = _local(name, 8, crc, packed, size)
        headers.insert(0, header)
        fields.insert(0, (crc, packed, size))
        # The member before this one inflates to every header from here on, then the zeros.
        crc = _zero_crc(kernel, zlib.crc32(b"".join(headers)))
        packed, size = packed + 5 + len(header), size + len(header)
    body = bytearray()
    entries: list[_Entry] = []
    for index, (header, (crc, packed, size)) in enumerate(zip(headers, fields, strict=True)):
        entries.append((names[index], 8, crc, packed, size, len(body)))
        body += header
        if index + 1 < len(headers):
            quoted = len(headers[index + 1])
            body += b"\x00" + struct.pack("<HH", quoted, quoted ^ 0xFFFF)
    body += kernel_data
    return bytes(body) + _directory(entries, at=len(body))


def _zero_crc(size: int, crc: int = 0, *, block: int = MIB) -> int:
    zeros = bytes(block)
    whole, rest = divmod(size, block)
    for _ in range(whole):
        crc = zlib.crc32(zeros, crc)
    return zlib.crc32(zeros[:rest], crc)


def nested_zip(depth: int, inner: bytes, name: str = f"{TITLE}.docx") -> bytes:
    """`inner` wrapped in `depth` zips, each holding the next as 第N层.zip."""
    data = make_zip([(name, inner)])
    for level in range(depth - 1, 0, -1):
        data = make_zip([(f"第{level}层.zip", data)])
    return data


def many_members_zip(count: int, *, declared_entries: int | None = None) -> bytes:
    """A zip of `count` one-byte photos; the end record may under-declare the count."""
    members = [RawMember(f"图{i}.jpg", b"x", 0, zlib.crc32(b"x"), 1) for i in range(count)]
    return raw_zip(members, declared_entries=declared_entries)


# ------------------------------------------------------------------------------------------- documents

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Target="word/document.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    b"</Relationships>"
)


def document_xml(paragraphs: Sequence[str], *, doctype: str = "") -> bytes:
    """A minimal word/document.xml; `doctype` (a DTD) goes before the root and `&name;` may follow."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{doctype}'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    ).encode()


def docx_package(document: bytes | RawMember, *, rels: bytes = _RELS) -> bytes:
    """A .docx zip around a document part: given as XML bytes, or as a RawMember (any lie it tells)."""
    part = document if isinstance(document, RawMember) else _deflated("word/document.xml", document)
    return raw_zip([_deflated("[Content_Types].xml", _CONTENT_TYPES), _deflated("_rels/.rels", rels), part])


def _deflated(name: str, data: bytes) -> RawMember:
    return RawMember(name, zlib.compress(data, 9)[2:-4], 8, zlib.crc32(data), len(data))


def docx_bomb(inflates_to: int) -> bytes:
    """A .docx whose document.xml is a deflate bomb, its true size declared (ratio about 1000)."""
    xml = RawMember("word/document.xml", deflate_zeros(inflates_to), 8, _zero_crc(inflates_to), inflates_to)
    return docx_package(xml)


SIGNOFF_PARAGRAPHS = [TITLE, *BODY, *SIGNED]

BILLION_LAUGHS = (
    '<!DOCTYPE w:document [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + "]>"
)
XXE = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
XXE_PARAMETER = '<!DOCTYPE w:document [<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]>'


def quadratic_doctype(length: int = 100_000) -> str:
    """One long entity, referenced many times: no nesting, so only the count bounds the blow-up."""
    return f'<!DOCTYPE w:document [<!ENTITY a "{"A" * length}">]>'


def entity_docx(doctype: str, reference: str, *, encoding: str = "utf-8") -> bytes:
    """A signed draft whose body paragraph references an entity declared in `doctype`."""
    xml = document_xml([TITLE, reference, *SIGNED], doctype=doctype).decode()
    if encoding != "utf-8":
        xml = xml.replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')
    return docx_package(xml.encode(encoding))


# -------------------------------------------------------------------------------------------- pictures


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width × height RGBA pixels and carries one garbage IDAT chunk."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">L", len(payload)) + kind + payload + struct.pack(">L", zlib.crc32(kind + payload))
        )

    ihdr = struct.pack(">LLBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", deflate_zeros(MIB)) + chunk(b"IEND", b"")
    )


def jpeg_header(width: int, height: int) -> bytes:
    """A real JPEG's segments with the frame header rewritten to declare width × height."""
    data = bytearray(photo(7))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def stored_zip(*files: tuple[str, bytes]) -> bytes:
    """A zip whose members are stored, not deflated: a bomb inside reaches the reader whole."""
    return raw_zip([RawMember(n, d, 0, zlib.crc32(d), len(d)) for n, d in files])


def wide_docx(paragraphs: int, *, seed: int = 1) -> bytes:
    """A signed draft of `paragraphs` short random paragraphs: compresses only about 6 times, so no
    ratio check stops it, and lxml's tree of it costs some 15 times the XML's size."""
    rng = random.Random(seed)  # noqa: S311 (synthetic text, not security)
    text = ["".join(chr(0x4E00 + rng.randrange(2000)) for _ in range(3)) for _ in range(paragraphs)]
    return docx_package(document_xml([TITLE, *text, *SIGNED]))


def zipped(*files: tuple[str, bytes]) -> bytes:
    """A plain UTF-8 zip (zipfile's own), for members that need no lie."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return out.getvalue()
