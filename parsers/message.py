"""The MIME layer: one RFC 5322 message (bytes) to an Envelope of decoded headers, attachments and body.

Reads what Chinese mail clients really send (Coremail/163, QQ, Foxmail, Outlook): GB-family charsets
under wrong labels, raw 8-bit headers, RFC 2047 words inside quoted file names, RFC 2231 names,
forwarded messages (message/rfc822) and broken transfer encodings. It never raises.

The stdlib parser is used with policy.compat32, not mail-parser: mail-parser decodes headers and
file names itself and mangles exactly this mail (mojibake subjects for GBK under a gb2312 label,
undecoded From names, surrogate escapes left in names). compat32 keeps the raw bytes of 8-bit
headers as surrogate escapes, which parsers.charset turns back into bytes and decodes. Well-formed
mail is split by parsers.mimesplit into the tree the stdlib parser would build, without its walk
over every line, and base64 bodies are decoded where they lie; the rest goes to the stdlib parser.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from email.utils import parsedate_to_datetime

from parsers.charset import (
    decode_bytes,
    decode_header,
    header_params,
    html_text,
    lenient_base64,
    normalise_label,
)
from parsers.mimesplit import Part, split
from parsers.types import Code, FileEntry, Limits, Problem, problem

__all__ = ["Envelope", "read_message"]


@dataclass(frozen=True)
class Envelope:
    """What the MIME layer found in one message; the draft and archive readers take it from here."""

    message_id: str
    from_addr: str
    from_name: str
    subject: str
    # ISO 8601 with offset of the Date header, or "" when missing or unparseable.
    date: str
    auto_reply: bool
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    reply_to: str = ""
    # Paths are bare file names, sanitised and unique within the message (forwarded ones included).
    attachments: tuple[FileEntry, ...] = ()
    # The first text/plain body, else the text of the first HTML body; forwarded bodies come last.
    body_text: str = ""
    problems: tuple[Problem, ...] = ()


def read_message(raw: bytes, *, limits: Limits) -> Envelope:
    """Read one message; every input yields an Envelope, problems are values."""
    fast = _read_split(raw, limits)
    if fast is not None:
        return fast
    try:
        return _read(BytesParser(policy=compat32).parsebytes(raw), limits)
    # The boundary of a pure parser fed hostile bytes: whatever the stdlib parser or a codec throws
    # (RecursionError on absurd nesting included) must become a value, so the catch is blind.
    except Exception:  # noqa: BLE001
        return _headers_only(raw, limits)


def _read_split(raw: bytes, limits: Limits) -> Envelope | None:
    """The Envelope of the fast splitter's tree (the stdlib's tree, without its walk over every
    line), or None when it declines the message or reading its tree fails: the stdlib path decides."""
    try:
        tree = split(raw, max_parts=limits.max_mime_parts)
        return None if tree is None else _read(tree, limits)
    except Exception:  # noqa: BLE001  # see read_message
        return None


def _headers_only(raw: bytes, limits: Limits) -> Envelope:
    unreadable = problem(Code.UNSUPPORTED_FORMAT, detail="邮件结构无法解析")
    try:
        msg = BytesHeaderParser(policy=compat32).parsebytes(raw)
        # The body is what could not be parsed: keep the headers, drop the rest.
        msg.set_payload("")
        return _read(msg, limits, unreadable)
    except Exception:  # noqa: BLE001  # see read_message
        return Envelope("", "", "", "", "", auto_reply=False, problems=(unreadable,))


def _read(msg: Message, limits: Limits, *extra: Problem) -> Envelope:
    leaves, exceeded = _walk(msg, limits)
    problems = list(extra)
    if exceeded:
        problems.append(problem(Code.ARCHIVE_LIMITS_EXCEEDED, detail="邮件部件过多"))
    hint = _charset_hint(msg, leaves)
    from_name, from_addr = _address(_header(msg, "From"), hint)
    subject = _clean(decode_header(_header(msg, "Subject"), hint=hint))
    references = tuple(dict.fromkeys(_ids(_header(msg, "References"))))
    attachments, body = _contents(leaves, hint)
    return Envelope(
        message_id=next(iter(_ids(_header(msg, "Message-ID"), wrap=True)), ""),
        from_addr=from_addr,
        from_name=from_name,
        subject=subject,
        date=_date(_header(msg, "Date")),
        auto_reply=_automatic(msg, from_addr, subject),
        in_reply_to=next(iter(_ids(_header(msg, "In-Reply-To"), wrap=True)), ""),
        references=references,
        reply_to=_address(_header(msg, "Reply-To"), hint)[1],
        attachments=attachments,
        body_text=body,
        problems=tuple(problems),
    )


def _header(part: Message, name: str) -> str | None:
    """The raw value of a header (8-bit bytes as surrogate escapes), first occurrence, unfolded."""
    values = _headers(part, name)
    return values[0] if values else None


def _headers(part: Message, name: str) -> list[str]:
    wanted = name.lower()
    return [re.sub(r"\r?\n[ \t]?", " ", v) for k, v in part.raw_items() if k.lower() == wanted]


def _walk(msg: Message, limits: Limits) -> tuple[list[tuple[Message, bool]], bool]:
    """Leaf parts in document order, each with whether it sits inside a forwarded message."""
    leaves: list[tuple[Message, bool]] = []
    stack: list[tuple[Message, bool]] = [(msg, False)]
    seen = 0
    while stack:
        part, nested = stack.pop()
        seen += 1
        if seen > limits.max_mime_parts:
            return leaves, True
        # is_multipart() is also true of message/rfc822, whose payload is the forwarded message.
        if part.is_multipart():
            inner = nested or part.get_content_maintype() == "message"
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((child, inner) for child in reversed(children) if isinstance(child, Message))
        else:
            leaves.append((part, nested))
    return leaves, False


def _charset_hint(msg: Message, leaves: list[tuple[Message, bool]]) -> str | None:
    """The first non-ASCII body charset: a client writing raw 8-bit headers wrote them in it too."""
    for part in [msg, *(leaf for leaf, _ in leaves)]:
        label = header_params(_header(part, "Content-Type"))[1].get("charset", "")
        codec = normalise_label(label)
        # UTF-16 and kin name the bytes of one part, never the 8-bit header bytes around them.
        if codec and codec != "ascii" and not codec.startswith(("utf-16", "utf-32", "utf-7")):
            return label
    return None


def _address(value: str | None, hint: str | None) -> tuple[str, str]:
    """(display name, lower-cased addr-spec) of the first address in a From/Reply-To value.

    A linear scan of our own: email.utils.getaddresses recurses once per "(" and a hostile
    header of nested comments exhausts the stack.
    """
    if not value:
        return "", ""
    quoted, angle = False, -1
    for index, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            angle = index
            break
    close = value.find(">", angle + 1) if angle >= 0 else -1
    if close > angle >= 0:
        name, addr = value[:angle], value[angle + 1 : close]
    else:
        addr = next((t for t in re.split(r"[\s,;<>]+", value) if "@" in t), "")
        comment = value[value.find("(") + 1 : value.rfind(")")] if "(" in value else ""
        name = comment if addr else value
    name = _clean(decode_header(name.strip().strip("\"'").replace('\\"', '"'), hint=hint)).strip("\"' ")
    return name, _addr_spec(addr, hint)


# Not in an unquoted addr-spec: RFC 5322 §3.4.1 specials and white space.
_NOT_IN_ADDRESS = re.compile(r'[\s<>()\[\],;:\\"]')


def _addr_spec(text: str, hint: str | None) -> str:
    """The lower-cased addr-spec, or "" when the text cannot be one.

    RFC 2047 §5: an encoded-word never appears in an addr-spec, so one there makes no address.
    Decoding them is the mailsploit trick (2017): `=?utf-8?b?...?=` turning into
    "office@pjyjj.cn\\0@evil.com", or into a CRLF and a Bcc line, which would travel into the
    database and into a reply's To. Raw 8-bit bytes (RFC 6532 addresses) are decoded as header text.
    """
    if "=?" in text:
        return ""
    addr = decode_header(text, hint=hint).strip().strip("\"'()").lower().removeprefix("mailto:")
    local, at, domain = addr.partition("@")
    if (
        not (local and at and domain)
        or "@" in domain
        or _NOT_IN_ADDRESS.search(addr)
        or any(unicodedata.category(c)[0] in "CZ" for c in addr)
    ):
        return ""
    return addr


def _ids(value: str | None, *, wrap: bool = False) -> list[str]:
    """Message-IDs in a header, with their angle brackets; a bare id is wrapped when asked."""
    text = decode_header(value).strip()
    found = ["<" + _id_text(m) + ">" for m in re.findall(r"<([^<>]+)>", text)]
    return [f"<{_id_text(text)}>"] if not found and wrap and text and " " not in text else found


def _id_text(text: str) -> str:
    """An id without white space or control characters: it goes back out in a reply's In-Reply-To."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cc")


def _date(value: str | None) -> str:
    try:
        moment = parsedate_to_datetime(decode_header(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""
    # RFC 5322 §3.3: -0000 means UTC with the sender's zone unknown (parsed as naive).
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _clean(text: str) -> str:
    """One line of display text: control and bidi-override characters gone, white space collapsed."""
    kept = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text if c not in _BIDI)
    return " ".join(kept.split())


# Subject prefixes of vacation replies and bounces (163, QQ, Exchange, Postfix), lower-cased.
_AUTO_SUBJECTS = (
    "自动回复",
    "自动答复",
    "自動回覆",
    "自動回復",
    "退信",
    "系统退信",
    "auto:",
    "automatic reply",
    "autoreply",
    "out of office",
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "mail delivery failed",
)


def _automatic(msg: Message, from_addr: str, subject: str) -> bool:
    """RFC 3834 and what servers and clients actually mark: mail the daemon must never answer."""
    auto_submitted = (_header(msg, "Auto-Submitted") or "").split(";")[0].strip().lower()
    precedence = (_header(msg, "Precedence") or "").strip().lower()
    return (
        auto_submitted not in ("", "no")
        or precedence in ("bulk", "junk", "list")
        or _header(msg, "X-Autoreply") is not None
        or _header(msg, "X-Autorespond") is not None
        or any(v.replace(" ", "") == "<>" for v in _headers(msg, "Return-Path"))
        or from_addr.split("@")[0] in ("mailer-daemon", "postmaster")
        or msg.get_content_type() == "multipart/report"
        or subject.lower().startswith(_AUTO_SUBJECTS)
    )


# Signatures and keys travel unnamed and are never a submission.
_NOT_FILES = frozenset(
    {
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-keys",
    }
)


def _contents(leaves: list[tuple[Message, bool]], hint: str | None) -> tuple[tuple[FileEntry, ...], str]:
    """Attachments (named parts, plus unnamed application parts) and the best body text."""
    files: list[FileEntry] = []
    taken: set[str] = set()
    bodies: list[tuple[tuple[bool, int], str]] = []
    unnamed = 0
    for part, nested in leaves:
        ctype = part.get_content_type()
        disposition, disp_params = header_params(_header(part, "Content-Disposition"), hint=hint)
        _, type_params = header_params(_header(part, "Content-Type"), hint=hint)
        name = _safe_name(disp_params.get("filename") or type_params.get("name") or "")
        data = _payload(part)
        unnamed_file = ctype.startswith("application/") and ctype not in _NOT_FILES
        if name or disposition == "attachment" or unnamed_file:
            if not name:
                unnamed += 1
                name = f"附件{unnamed}{_extension(data, ctype)}"
            files.append(FileEntry(path=_unique(name, taken), data=data))
        elif ctype in ("text/plain", "text/html") or part.get_content_maintype() == "multipart":
            kind = 1 if ctype == "text/html" else 2 if ctype.startswith("multipart/") else 0
            charset = type_params.get("charset")
            text = (
                html_text(data, charset, hint=hint)
                if kind == 1
                else _lines(decode_bytes(data, charset or hint))
            )
            if text:
                bodies.append(((nested, kind), text))
    body = min(bodies, key=lambda b: b[0])[1] if bodies else ""
    # NUL bytes (spam carries them) mean nothing in text, and PostgreSQL refuses them in a string.
    return tuple(files), body.replace("\x00", "")


def _payload(part: Message) -> bytes:
    """The decoded bytes of a leaf part, leniently: a broken transfer encoding is not fatal."""
    encoding = header_params(_header(part, "Content-Transfer-Encoding"))[0]
    if isinstance(part, Part):
        # A part of the splitter's tree. The stdlib would hand back its text, non-ASCII bytes
        # decoded under the part's charset, or under ASCII (so dropped) when it declares none;
        # lenient_base64 drops them too, so without a charset the raw bytes decode the same.
        if encoding == "base64" and part.get_param("charset") is None:
            return lenient_base64(part.source, part.start, part.end)
        part.set_payload(part.text())
    if encoding == "base64":
        # The stdlib hands back the undecoded text when base64 is too broken; decode what is there.
        text = part.get_payload()
        return lenient_base64(text.encode("ascii", "ignore")) if isinstance(text, str) else b""
    # decode=True is the stdlib's raw-bytes path: get_payload() alone would decode 8-bit text with
    # the declared charset and U+FFFD, losing exactly the bytes a charset lie needs.
    # 7bit, 8bit, binary and unknown encodings (x-unknown, foobar) come back as they were sent.
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _safe_name(name: str) -> str:
    """A file name with no directory, no control or bidi characters; "" when nothing is left."""
    kept = "".join(c for c in name if unicodedata.category(c) != "Cc" and c not in _BIDI)
    segments = [s.strip() for s in re.split(r"[\\/]", kept) if s.strip() not in ("", ".", "..")]
    leaf = segments[-1].rstrip(". ") if segments else ""
    if len(leaf) > 200:
        stem, dot, suffix = leaf.rpartition(".")
        leaf = stem[:190] + dot + suffix[:9] if dot and len(suffix) < 10 else leaf[:200]
    return leaf


def _unique(name: str, taken: set[str]) -> str:
    """The name, or `stem (2).ext`, `stem (3).ext`… when another file already has it."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, dot, suffix = name, "", ""
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        candidate = f"{stem} ({number}){dot}{suffix}"
    taken.add(candidate.casefold())
    return candidate


_MAGIC = (
    (b"Rar!\x1a\x07", ".rar"),
    (b"7z\xbc\xaf\x27\x1c", ".7z"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".doc"),
    (b"%PDF", ".pdf"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG", ".png"),
    (b"GIF8", ".gif"),
)
_TYPE_SUFFIX = {"text/plain": ".txt", "text/html": ".html", "message/rfc822": ".eml"}


def _extension(data: bytes, ctype: str) -> str:
    """A suffix for an unnamed file, from its magic bytes first, its declared type second."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ".docx" if b"word/document.xml" in data else ".zip"
    for magic, suffix in _MAGIC:
        if data.startswith(magic):
            return suffix
    return _TYPE_SUFFIX.get(ctype, ".bin")


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()
