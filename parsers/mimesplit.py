"""The fast MIME splitter: a well-formed message (RFC 2046 multiparts, forwarded messages) to the tree
of parts the stdlib parser would build, found with `bytes.find` on boundaries instead of a Python
loop over every line; leaf bodies stay spans of the raw message until they are decoded.

It declines (returns None) whatever it does not fully recognise, so the caller falls back to the
stdlib parser and keeps its behaviour on broken and hostile mail: a missing start or close
boundary, consecutive boundary lines, a boundary line after a bare CR, a header block the stdlib
would end elsewhere or flag as defective, multipart/digest, message/delivery-status, boundaries
that are not ASCII, more parts or deeper nesting than allowed.

What it reproduces of email.feedparser (Python 3.11, policy compat32): lines end at CRLF, CR or
LF; a line is a boundary line when it is `--boundary`, optionally `--`, optionally spaces or tabs,
then its end; inside a part every enclosing multipart's boundary ends the part; and RFC 2046's
rule that the line break before a boundary belongs to the boundary, which the stdlib applies to the
payload of the part created last (the innermost one, through forwarded messages).
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

__all__ = ["Part", "split"]

# Deeper nesting than this is hostile, not mail: the stdlib path decides what becomes of it.
MAX_DEPTH = 32


class Part(Message):
    """One part of a split message: its header fields; for a leaf, where its body lies in `source`.

    The body is what the stdlib parser keeps as the payload (still transfer-encoded); nothing is
    copied until the caller asks for it.
    """

    def __init__(self, policy: Any = compat32) -> None:
        super().__init__(policy)
        self.source = b""
        self.start = 0
        self.end = 0

    def text(self) -> str:
        """The body as the stdlib parser's payload string (8-bit bytes as surrogate escapes)."""
        return self.source[self.start : self.end].decode("ascii", "surrogateescape")


class _DeclinedError(Exception):
    """The message holds something the splitter does not reproduce exactly."""


def split(raw: bytes, *, max_parts: int) -> Part | None:
    """The stdlib parser's tree of `raw`, or None when the splitter declines it."""
    first = raw.find(b"\n")
    newline = b"\r\n" if first > 0 and raw[first - 1 : first] == b"\r" else b"\n"
    splitter = _Splitter(raw, newline, max_parts)
    try:
        return splitter.entity(0, len(raw), depth=0, before_boundary=False)
    except _DeclinedError:
        return None


class _Splitter:
    def __init__(self, raw: bytes, newline: bytes, max_parts: int) -> None:
        self.raw = raw
        self.newline = newline
        self.parts_left = max_parts
        self.header_parser = BytesHeaderParser(_class=Part, policy=compat32)

    def entity(self, start: int, end: int, *, depth: int, before_boundary: bool) -> Part:
        """The message or part in raw[start:end]; no line inside matches an enclosing boundary.

        `before_boundary`: the region ends at a boundary line, so the innermost part created last
        loses the line break before it.
        """
        self.parts_left -= 1
        if self.parts_left < 0 or depth > MAX_DEPTH:
            raise _DeclinedError
        part, body = self.headers(start, end)
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            raise _DeclinedError
        if part.get_content_maintype() in ("message", "multipart"):
            # The header parser left an empty string as payload; attach() appends to a list.
            part.set_payload([])
        if part.get_content_maintype() == "message":
            part.attach(self.entity(body, end, depth=depth + 1, before_boundary=before_boundary))
        elif part.get_content_maintype() == "multipart":
            for child_start, child_end in self.children(part, ctype, body, end):
                part.attach(self.entity(child_start, child_end, depth=depth + 1, before_boundary=True))
        else:
            part.source, part.start, part.end = self.raw, body, end
            if before_boundary:
                part.end -= _line_break_before(self.raw, body, end)
        return part

    def headers(self, start: int, end: int) -> tuple[Part, int]:
        """The header fields of raw[start:end] and where its body starts (after the blank line)."""
        raw, newline = self.raw, self.newline
        if raw.startswith(newline, start, end):
            body = start + len(newline)
        else:
            blank = raw.find(newline + newline, start, end)
            if blank < 0:
                raise _DeclinedError
            body = blank + 2 * len(newline)
        part = self.header_parser.parsebytes(raw[start:body])
        # Anything left over as payload means the stdlib ends the header block before the blank
        # line (at a line that is no header field, or a bare CR); defects mean fields it reads
        # differently.
        try:
            leftover = part.get_payload()
        # A leftover with 8-bit bytes is decoded under the declared charset, which can fail in
        # any way (an RFC 2231 charset is a tuple); an empty one never is.
        except Exception:  # noqa: BLE001
            raise _DeclinedError from None
        if not isinstance(part, Part) or part.defects or leftover != "":
            raise _DeclinedError
        return part, body

    def children(self, part: Part, ctype: str, body: int, end: int) -> list[tuple[int, int]]:
        """The regions of a multipart's parts, between its boundary lines."""
        raw = self.raw
        # A digest's parts default to message/rfc822; its transfer encoding, when not an identity
        # one, is a defect the stdlib records: both rare enough to leave to it.
        encoding = str(part.get("content-transfer-encoding", "8bit")).lower()
        if ctype == "multipart/digest" or encoding not in ("7bit", "8bit", "binary"):
            raise _DeclinedError
        boundary = part.get_boundary()
        # A boundary with a line break in it (folded inside its quotes) never matches a line.
        if not boundary or not boundary.isascii() or not boundary.isprintable():
            raise _DeclinedError
        dashed = b"--" + boundary.encode("ascii")
        # A bare CR ends a line too: a boundary line after one is not found by the search below.
        if raw.find(b"\r" + dashed, body, end) >= 0:
            raise _DeclinedError
        line = re.compile(re.escape(dashed) + rb"(--)?[ \t]*(?:\r\n|\r|\n|\Z)")
        # The body starts after a blank line, so raw[body - 1] is its "\n".
        position, opened, regions = body - 1, -1, []
        while True:
            found = raw.find(b"\n" + dashed, position, end)
            if found < 0:
                # No close boundary: the stdlib records a defect and reads to the end.
                raise _DeclinedError
            position = found + 1
            match = line.match(raw, position)
            if match is None:
                continue
            if opened >= 0:
                # Consecutive boundary lines, which the stdlib consumes as one, leave an empty
                # region here: entity() declines it, having no blank line to end a header block.
                regions.append((opened, match.start()))
            elif match.group(1):
                # A close boundary before any part: the stdlib keeps the multipart as text.
                raise _DeclinedError
            if match.group(1):
                return regions
            opened = match.end()


def _line_break_before(raw: bytes, body: int, end: int) -> int:
    """The length of the CRLF, CR or LF ending raw[body:end], if any (RFC 2046 §5.1.1)."""
    if end - body >= 2 and raw[end - 2 : end] == b"\r\n":
        return 2
    return 1 if end > body and raw[end - 1] in b"\r\n" else 0
