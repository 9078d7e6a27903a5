"""Submission mail as 163 webmail, Foxmail and Thunderbird write it: CRLF, base64 parts, encoded names."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from typing import Literal
from urllib.parse import quote

Mailer = Literal["163", "foxmail", "thunderbird"]

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
