"""Fuzzing harness of the full parse: seed messages, structure-aware mutators, the property checked.

The property is the daemon's: `parse_message(raw, limits=Limits(), convert=None, rar=True)` returns a
ParsedMessage for any bytes, never raises, and hands on text that is safe to store and to put back
into a reply (UTF-8, no NUL, one-line header fields, an address or nothing). Used three ways:
tests/hostile/test_fuzz.py (hypothesis, bounded), `python -m fuzz.long` (coverage-guided, locked
packages only) and, with atheris installed in a scratch venv, `python -m fuzz.fuzz_parse` (libFuzzer).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import random
import re
import struct
import sys
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from daemon.samples import make_docx, make_jpeg, make_submission_email, make_zip
from parsers.charset import lenient_base64
from parsers.submission import parse_message
from parsers.types import Limits, ParsedMessage

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"
LIMITS = Limits()
# Mutants are kept below this size: bigger inputs only slow the campaign down.
MAX_INPUT = 2 * 1024 * 1024
_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\\\"]+@[^\s@<>()\[\],;:\\\"]+")
_ONE_LINE = ("message_id", "from_addr", "from_name", "subject", "date", "in_reply_to", "reply_to")


class UnsafeOutputError(AssertionError):
    """The parse returned, but with text the daemon must not store or send."""


def check_output(parsed: ParsedMessage) -> None:
    """Raise UnsafeOutputError unless the parse is safe to store (UTF-8, no NUL) and to answer."""
    record = json.dumps(asdict(parsed), ensure_ascii=False)
    try:
        record.encode("utf-8")
        json.dumps(parsed.to_json(), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnsafeOutputError(f"not UTF-8: {exc}") from exc
    if "\\u0000" in record:
        raise UnsafeOutputError("a NUL character in the output")
    lines = [getattr(parsed, name) for name in _ONE_LINE]
    lines += [*parsed.references, *(d.source for d in parsed.drafts), *(p.source for p in parsed.problems)]
    for value in lines:
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise UnsafeOutputError(f"a control character in {value!r}")
    for address in (parsed.from_addr, parsed.reply_to):
        if address and not _ADDRESS.fullmatch(address):
            raise UnsafeOutputError(f"not an address: {address!r}")


def parse_checked(raw: bytes) -> ParsedMessage:
    """The full parse as the daemon runs it, then the output checks."""
    parsed = parse_message(raw, limits=LIMITS, convert=None, rar=True)
    check_output(parsed)
    return parsed


# --------------------------------------------------------------------------------------------- seeds

_WHEN = datetime(2025, 6, 20, 9, 30, tzinfo=timezone(timedelta(hours=8)))
_SIGNED = ["撰稿人：危化科 王强、盘山县应急管理局 李明", "初审人：刘洋    复审人：陈静"]


def _draft(title: str) -> bytes:
    body = ["6月19日，市应急局组织开展危化企业专项检查，共检查企业12家，发现并督促整改隐患23项。"]
    return make_docx(title=title, paragraphs=body, signoff_lines=_SIGNED)


def _mail(*attachments: tuple[str, bytes], **kw: object) -> bytes:
    return make_submission_email(
        sender="wangqiang.wh@163.com",
        sender_name="王强",
        to="pjyjjbgs@163.com",
        subject="危化科信息：危化企业专项检查",
        date=_WHEN,
        attachments=attachments,
        **kw,  # type: ignore[arg-type]
    )


def built_seeds() -> list[bytes]:
    """Submissions as the real clients send them, built in code (no files needed)."""
    photo = make_jpeg(width=32, height=24, seed=1)
    draft = _draft("危化企业专项检查")
    package = make_zip(
        [
            ("稿件一/危化企业专项检查.docx", draft),
            ("稿件一/图1.jpg", photo),
            ("稿件二/汛期值班.docx", _draft("汛期值班")),
        ]
    )
    seven = io.BytesIO()
    import py7zr  # only here: the seed needs a 7z writer

    with py7zr.SevenZipFile(seven, "w") as archive:
        archive.writestr(draft, "稿件/危化企业专项检查.docx")
        archive.writestr(photo, "稿件/图1.jpg")
    forwarded = _mail(("稿件.zip", make_zip([("稿件.docx", draft)], gbk_names=False)), mailer="thunderbird")
    return [
        _mail(("盘山县信息.zip", package)),
        _mail(("危化企业专项检查.docx", draft), ("图1.jpg", photo), gbk_headers=True, mailer="foxmail"),
        _mail(
            ("稿件（终稿）.zip", make_zip([("危化企业专项检查.docx", draft)], gbk_names=False)),
            mailer="thunderbird",
        ),
        _mail(("稿件.7z", seven.getvalue())),
        _mail(("转发.eml", forwarded)).replace(b"application/octet-stream", b"message/rfc822", 1),
        _mail(),
    ]


def corpus_seeds() -> list[bytes]:
    """The shared real-world corpus: every message, and every archive and document as an attachment."""
    if not CORPUS.is_dir():
        return []
    found = [p.read_bytes() for folder in ("eml", "hostile") for p in sorted((CORPUS / folder).glob("*.eml"))]
    for folder in ("archives", "docx", "hostile"):
        for path in sorted((CORPUS / folder).iterdir()):
            if path.suffix != ".eml" and path.stat().st_size < 256 * 1024:
                found.append(_mail((path.name.rsplit("__", 1)[-1], path.read_bytes())))
    return found


def seeds() -> list[bytes]:
    return built_seeds() + corpus_seeds()


# ------------------------------------------------------------------------------------------ mutators

Mutator = Callable[[bytes, random.Random, Sequence[bytes]], bytes]
_TOKENS = (
    b"\r\n", b"\r\n\r\n", b"\x00", b"=?utf-8?b?", b"=?gbk?q?=C8=A5?=", b"?=", b"--", b"\r\n--", b"\"", b";",
    b"\r\nContent-Type: multipart/mixed; boundary=", b"\r\nContent-Transfer-Encoding: base64\r\n",
    b"\r\nContent-Type: message/rfc822\r\n\r\n", b"filename*0*=utf-8''%E7%A8%BF", b"name=\"..\\\\..\\\\a.docx\"",
    b"charset=utf-7", b"charset=zlib", b"\xe7\xa8\xbf", b"\xb8\xe5", b"PK\x03\x04", b"PK\x05\x06", b"<", b">",
    b"(", b"@", b"\r\nFrom: a@b.c", b"\r\nAuto-Submitted: auto-replied", b"\r\n ", b"\xff" * 4,
)  # fmt: skip
_XML_TOKENS = (
    b"<w:p>", b"</w:p>", b"<w:t>", b"</w:t>", b"<w:tbl><w:tr><w:tc>", b"<w:txbxContent>", b"<w:br/>", b"&amp;",
    b"&#0;", b"&#x1F;", b"<!DOCTYPE x [<!ENTITY a \"b\">]>", b"&a;", b"<![CDATA[", b"]]>", b"\xff", b"\x00",
    "撰稿人：".encode(), "初审人：".encode(), "复审人：".encode(), b"<mc:AlternateContent>", b"xmlns:w=\"x\"",
)  # fmt: skip


def flip(data: bytes, rng: random.Random, pool: Sequence[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            at = rng.randrange(len(out))
            out[at] = rng.randrange(256) if rng.random() < 0.5 else out[at] ^ (1 << rng.randrange(8))
    return bytes(out)


def truncate(data: bytes, rng: random.Random, pool: Sequence[bytes]) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def splice(data: bytes, rng: random.Random, pool: Sequence[bytes]) -> bytes:
    other = rng.choice(pool) if pool else data
    return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]


def insert_token(data: bytes, rng: random.Random, pool: Sequence[bytes]) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(_TOKENS) * rng.choice((1, 1, 2, 64, 4096)) + data[at:]


def repeat_slice(data: bytes, rng: random.Random, pool: Sequence[bytes]) -> bytes:
    start = rng.randrange(len(data) + 1)
    piece = data[start : start + rng.randint(1, 200)]
    return data[:start] + piece * rng.choice((2, 10, 1000)) + data[start:]


def duplicate_header(data: bytes, rng: random.Random, pool: Sequence[bytes]) -> bytes:
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    line = rng.choice(lines)
    at = rng.randrange(len(lines) + 1)
    return b"\r\n".join(lines[:at] + [line] * rng.choice((1, 2, 50)) + lines[at:]) + sep + body


def damage_boundary(data: bytes, rng: random.Random, pool: Sequence[bytes]) -> bytes:
    found = re.findall(rb'boundary="?([^";\r\n]+)', data)
    if not found:
        return flip(data, rng, pool)
    marker = b"--" + rng.choice(found)
    spots = [m.start() for m in re.finditer(re.escape(marker), data)]
    if not spots:
        return flip(data, rng, pool)
    at = rng.choice(spots)
    end = at + len(marker)
    choice = rng.randrange(4)
    if choice == 0:  # gone
        return data[:at] + data[end:]
    if choice == 1:  # closing dashes added or taken away
        return data[:end] + (data[end + 2 :] if data[end : end + 2] == b"--" else b"--" + data[end:])
    if choice == 2:  # one character changed
        pos = rng.randrange(at + 2, end)
        return data[:pos] + bytes([rng.randrange(33, 127)]) + data[pos + 1 :]
    return data[:at] + marker + b"\r\n" + data[at:]  # an extra, empty part


_BASE64_BLOCK = re.compile(rb"\r\n\r\n((?:[A-Za-z0-9+/=]{40,}\r\n)+[A-Za-z0-9+/=]*)")


def corrupt_attachment(data: bytes, rng: random.Random, pool: Sequence[bytes]) -> bytes:
    """Decode one base64 attachment, corrupt it as an archive or document, encode it back."""
    blocks = list(_BASE64_BLOCK.finditer(data))
    if not blocks:
        return flip(data, rng, pool)
    block = rng.choice(blocks)
    inner = lenient_base64(block.group(1))
    damaged = corrupt_archive(inner, rng)
    encoded = base64.encodebytes(damaged).replace(b"\n", b"\r\n")
    return data[: block.start(1)] + encoded + data[block.end(1) :]


def corrupt_archive(data: bytes, rng: random.Random, depth: int = 0) -> bytes:
    """A zip rewritten with one member changed (recursing into a .docx or inner zip), else raw damage."""
    if data.startswith(b"PK\x03\x04") and rng.random() < 0.7:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = archive.infolist()
                # A bomb among the seeds (the overlap bomb declares 5 GB) is damaged raw, not inflated.
                small = sum(i.file_size for i in infos) < 32 * 1024 * 1024
                members = [(info, archive.read(info)) for info in infos] if small else []
        # Mutants are by design unreadable at times; any failure falls back to raw damage.
        except Exception:  # noqa: BLE001
            members = []
        if members:
            index = rng.randrange(len(members))
            info, content = members[index]
            if content.startswith(b"PK") and depth < 2:
                content = corrupt_archive(content, rng, depth + 1)
            elif info.filename.endswith(".xml"):
                content = _mutate_xml(content, rng)
            elif rng.random() < 0.3:
                info.filename = rng.choice(
                    ("../../x.docx", "稿件/\u202egpj.exe", "a\x01b.jpg", "/abs.docx", info.filename * 40)
                )
            else:
                content = flip(content, rng, ())
            members[index] = (info, content)
            # A member zipfile cannot write back (Deflate64, an odd flag) gets raw damage instead.
            with contextlib.suppress(Exception):
                return _rezip(members)
    return _damage_zip_fields(data, rng) if rng.random() < 0.5 else flip(data, rng, ())


def _rezip(members: Sequence[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        # Duplicate names are one of the lies wanted here.
        warnings.simplefilter("ignore")
        for member, payload in members:
            archive.writestr(member, payload)
    return out.getvalue()


def _mutate_xml(xml: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(xml) + 1)
    if rng.random() < 0.2:
        return xml[:at]
    return xml[:at] + rng.choice(_XML_TOKENS) * rng.choice((1, 1, 3, 300)) + xml[at:]


def _damage_zip_fields(data: bytes, rng: random.Random) -> bytes:
    """Lie in a header field: sizes, method, flags, offsets, counts (central or local, or the end)."""
    spots = [m.start() for m in re.finditer(rb"PK\x01\x02|PK\x03\x04|PK\x05\x06", data)]
    if not spots:
        return flip(data, rng, ())
    out = bytearray(data)
    at = rng.choice(spots) + rng.choice((6, 8, 10, 16, 20, 24, 28, 30, 42))
    if at + 4 <= len(out):
        struct.pack_into("<L", out, at, rng.choice((0, 1, 0xFFFF, 0xFFFFFFFF, rng.randrange(1 << 32))))
    return bytes(out)


MUTATORS: tuple[Mutator, ...] = (
    flip, truncate, splice, insert_token, repeat_slice, duplicate_header, damage_boundary, corrupt_attachment,
    corrupt_attachment,
)  # fmt: skip


def mutate(data: bytes, rng: random.Random, pool: Sequence[bytes] = ()) -> bytes:
    """One to four stacked mutations, the result kept under MAX_INPUT."""
    for _ in range(rng.randint(1, 4)):
        data = rng.choice(MUTATORS)(data, rng, pool)[:MAX_INPUT]
    return data


# ------------------------------------------------------------------------------------------- atheris


def main(argv: list[str]) -> None:
    """libFuzzer through atheris (pip install atheris, in a scratch venv): argv as libFuzzer's.

    Pass -max_len=2097152: libFuzzer's default of 4096 bytes cuts every submission with a draft.
    """
    import atheris  # not a locked dependency: see docs/fuzzing.md

    pool = seeds()
    # An empty corpus folder named on the command line starts from the seeds, not from nothing.
    for folder in (Path(a) for a in argv[1:] if not a.startswith("-")):
        if folder.is_dir() and not any(folder.iterdir()):
            for index, data in enumerate(pool):
                (folder / f"seed-{index:03d}.eml").write_bytes(data)

    def one_input(data: bytes) -> None:
        parse_checked(data)

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)  # noqa: S311 (fuzzing, not security)
        if not data or rng.random() < 0.1:
            data = rng.choice(pool)
        return mutate(data, rng, pool)[:max_size]

    atheris.instrument_all()
    atheris.Setup(argv, one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
