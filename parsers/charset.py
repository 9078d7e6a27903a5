"""Charset policy for Chinese mail: bytes with a declared (often wrong) label, RFC 2047 and RFC 2231 text.

Chinese clients label GBK text `gb2312`, send UTF-8 under a GB label, put raw 8-bit GBK bytes in
headers and RFC 2047 encoded-words inside quoted parameters. Everything here turns such bytes into
text and never raises: the worst outcome is U+FFFD or Latin-1 mojibake, never an exception.
"""

from __future__ import annotations

import binascii
import codecs
import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import unquote_to_bytes

import pybase64

_GB = frozenset({"gb2312", "gbk", "gb18030"})
_BIG5 = frozenset({"big5", "cp950", "big5hkscs"})
# Labels Python's codec registry does not know but mail clients send.
_ALIASES = {
    "x-gbk": "gbk",
    "gb_2312": "gb2312",
    "x-gb2312": "gb2312",
    "x-euc-cn": "gb2312",
    "x-big5": "big5",
    "x-x-big5": "big5",
    "cn-big5": "big5",
    "iso-8859-8-i": "iso8859-8",
    "windows-874": "cp874",
    "ks_c_5601-1987": "cp949",
}
# Codecs whose output differs from ASCII even when every byte is ASCII (or that are not ASCII-based).
_NOT_ASCII_BASED = ("utf-16", "utf-32", "utf-7", "hz", "iso2022")
# Registered but not text charsets, or decoders that interpret the text (escapes, IDNA).
_REFUSED = frozenset({"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "mbcs", "oem"})
_LATIN = frozenset({"iso8859-1", "cp1252", "iso8859-15", "ascii"})


def normalise_label(label: str | None) -> str | None:
    """Python's codec name for a MIME charset label, or None when it is missing, unknown or not text."""
    if not label:
        return None
    name = label.strip().strip("\"'").strip().lower()
    name = name.split()[0] if name.split() else ""
    name = _ALIASES.get(name, name)
    for candidate in (name, name.removeprefix("x-")):
        if not candidate:
            continue
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        if getattr(info, "_is_text_encoding", True) and info.name not in _REFUSED:
            return info.name
    return None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _gb_fallback(error: UnicodeError) -> tuple[str, int]:
    """A UTF-8 error handler that reads what is not UTF-8 as GB18030 characters, else U+FFFD.

    It keeps reading GB18030 until the bytes look like a UTF-8 CJK character again (three bytes,
    lead 0xE0-0xEF): a valid two-byte UTF-8 sequence there is far likelier a GBK pair than Latin.
    """
    if not isinstance(error, UnicodeDecodeError):
        raise error
    data, position, text = error.object, error.start, ""
    while position < len(data) and data[position] >= 0x80:
        if text and data[position] >= 0xE0 and _strict(data[position : position + 3], "utf-8") is not None:
            break
        for size in (2, 4):
            chunk = data[position : position + size]
            if len(chunk) == size and (char := _strict(chunk, "gb18030")) is not None:
                text, position = text + char, position + size
                break
        else:
            break
    return (text, position) if text else ("\ufffd", error.start + 1)


codecs.register_error("xinbao-gb-fallback", _gb_fallback)


_NON_ASCII_RUN = re.compile(rb"[\x80-\xff]+")


def _mixed(data: bytes) -> str:
    """Text spliced from UTF-8 and GBK pieces (a list server rewrote half a subject), run by run.

    Each run of non-ASCII bytes is read as UTF-8, else GB18030, else character by character.
    """

    def run(match: re.Match[bytes]) -> bytes:
        chunk = match.group(0)
        for codec in ("utf-8", "gb18030"):
            if (text := _strict(chunk, codec)) is not None:
                return text.encode("utf-8")
        return chunk.decode("utf-8", "xinbao-gb-fallback").encode("utf-8")

    return _NON_ASCII_RUN.sub(run, data).decode("utf-8", "replace")


def _best_effort(data: bytes, codec: str | None) -> str:
    """The least damaged reading of bytes no charset decodes cleanly."""
    candidates = [_mixed(data), data.decode("gb18030", "replace")]
    if codec is not None and codec not in _LATIN:
        candidates.insert(0, data.decode(codec, "replace"))
    best = min(candidates, key=lambda text: text.count("\ufffd"))
    # No Chinese in it at all, or mostly undecodable: Latin-1 at least keeps every byte visible.
    chinese = any("\u2e80" <= c < "\ufffd" for c in best)
    if codec is None and "\ufffd" in best and (not chinese or best.count("\ufffd") * 4 > len(best)):
        return data.decode("latin-1")
    return best


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode text bytes under a declared charset label, trusting the label only as far as it holds.

    - The GB family (gb2312, gbk, their aliases) is decoded as gb18030, their common superset.
    - Valid UTF-8 under another label is a lie, and UTF-8 wins, when the label fails strictly,
      the label is Latin-1/ASCII, or the text holds four or more CJK characters.
    - A Big5 label widens to cp950, then Big5-HKSCS.
    - No label, an unknown one, or one that fails: UTF-8, GB2312, Big5, GB18030, each strictly;
      then the reading with fewest U+FFFD (declared codec, mixed UTF-8/GB18030 runs, GB18030),
      or Latin-1 when no label helped and that reading has no Chinese or is mostly U+FFFD.
    Never raises.
    """
    if not data:
        return ""
    codec = normalise_label(declared)
    if (codec is None or not codec.startswith(_NOT_ASCII_BASED)) and data.isascii():
        return data.decode("ascii")
    if codec is not None:
        utf8 = _strict(data, "utf-8")
        # Valid UTF-8 with a few multi-byte characters is UTF-8 whatever the label says: GBK text
        # is valid UTF-8 only by accident, and only for a character or two, while a gbk label
        # strictly accepts many UTF-8 strings (as mojibake). Latin labels accept any byte.
        if utf8 is not None and (codec in _LATIN or len(data) - len(utf8) >= 8):
            return utf8
        if (text := _strict(data, codec)) is not None:
            return data.decode("gb18030") if codec in _GB else text
        if utf8 is not None:
            return utf8
        widened: tuple[str, ...] = (
            ("gb18030",) if codec in _GB else ("cp950", "big5hkscs") if codec in _BIG5 else ()
        )
        for wide in widened:
            if (text := _strict(data, wide)) is not None:
                return text
        if codec in _GB or codec in _BIG5:
            return _best_effort(data, widened[-1])
    for sniffed in ("utf-8", "gb2312", "big5", "gb18030"):
        if (text := _strict(data, sniffed)) is not None:
            return data.decode("gb18030") if sniffed == "gb2312" else text
    return _best_effort(data, codec)


def recover_bytes(value: str) -> bytes:
    """The bytes behind a header string from email's parser (8-bit bytes arrive as surrogate escapes)."""
    return value.encode("utf-8", "surrogateescape")


_ENCODED_WORD = re.compile(rb"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([QqBb])\?([^?\s]*?)\?=")
_FOLD = re.compile(rb"\r?\n(?=[ \t])|\r|\n")


_BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_NOT_BASE64 = bytes(b for b in range(256) if b not in _BASE64)


_IN_ALPHABET = re.compile(rb"[A-Za-z0-9+/]")


def lenient_base64(data: bytes, start: int = 0, end: int | None = None) -> bytes:
    """Base64 as clients really send it: characters outside the alphabet dropped, padding repaired.

    Decodes data[start:end]; well-formed base64 (the megabytes of a photo) is read in place.
    """
    stop = len(data) if end is None else end
    pad = data.find(b"=", start, stop)
    # binascii skips what is outside the alphabet (line breaks included) but stops at a complete
    # padding: the same bytes as the repair below when no alphabet character follows the first
    # "=" and it does not complain of the length or padding. pybase64 decodes exactly as
    # binascii does (tests/parsers/test_charset.py compares them), with SIMD: ~6x faster.
    if pad < 0 or _IN_ALPHABET.search(data, pad, stop) is None:
        try:
            return pybase64.b64decode(memoryview(data)[start:stop])
        except binascii.Error:
            pass
    # bytes.translate deletes in one C pass: ~5x faster than a regex on megabytes of photo.
    cleaned = data[start:stop].translate(None, _NOT_BASE64)
    cleaned = cleaned[: len(cleaned) - 1] if len(cleaned) % 4 == 1 else cleaned
    try:
        return binascii.a2b_base64(cleaned + b"=" * (-len(cleaned) % 4))
    except binascii.Error:
        return b""


def _word_bytes(encoding: bytes, text: bytes) -> bytes:
    return binascii.a2b_qp(text, header=True) if encoding in b"Qq" else lenient_base64(text)


def decode_header(value: str | bytes | None, *, hint: str | None = None) -> str:
    """Decode an unstructured header or parameter value: RFC 2047 words, raw 8-bit bytes, folding.

    Adjacent encoded-words of one charset are joined as bytes before decoding (RFC 2047 §5 forbids
    splitting a character, but clients do). Text outside encoded-words is decoded with `hint`
    (the message's body charset, what a client writing raw 8-bit headers also used).
    """
    if value is None:
        return ""
    raw = recover_bytes(value) if isinstance(value, str) else value
    raw = _FOLD.sub(b"", raw)
    pieces: list[str] = []
    run_charset: str | None = None
    # A list joined once: `bytes +=` per word is quadratic in a header of 100,000 words.
    run: list[bytes] = []
    position = 0

    def flush() -> None:
        nonlocal run_charset
        if run_charset is not None:
            pieces.append(decode_bytes(b"".join(run), run_charset))
        run.clear()
        run_charset = None

    for match in _ENCODED_WORD.finditer(raw):
        gap = raw[position : match.start()]
        # RFC 2047 §6.2: white space between adjacent encoded-words is not displayed.
        if gap.strip(b" \t") or run_charset is None:
            flush()
            pieces.append(_literal(gap, hint))
        charset = match.group(1).decode("ascii", "replace").lower()
        if charset != run_charset:
            flush()
            run_charset = charset
        run.append(_word_bytes(match.group(2), match.group(3)))
        position = match.end()
    flush()
    pieces.append(_literal(raw[position:], hint))
    return "".join(pieces)


def _literal(data: bytes, hint: str | None) -> str:
    """Header bytes no label declares: ASCII as is, valid UTF-8 as UTF-8, else the charset policy.

    A GBK hint would strictly accept many UTF-8 strings as mojibake, and raw UTF-8 headers over a
    GB body are common (list servers rewrite subjects), so valid UTF-8 goes first here.
    """
    if data.isascii():
        return data.decode("ascii")
    if (text := _strict(data, "utf-8")) is not None:
        return text
    codec = normalise_label(hint)
    return decode_bytes(data, None if codec is None or codec.startswith(_NOT_ASCII_BASED) else hint)


_SECTION = re.compile(r"([^*]+)(?:\*(\d+))?(\*)?")


def _parameters(text: str) -> Iterator[tuple[str, str]]:
    """(lower-cased name, unquoted value) pairs of `; name=value` parameters, in one linear pass.

    A hand-written scanner, not a regex: hostile headers (a run of 100,000 quotes) make a
    backtracking pattern take minutes. Only \\" and \\\\ are unescaped in quoted values: Windows
    clients send backslash paths unescaped.
    """
    position, end = 0, len(text)
    while position < end:
        semicolon = text.find(";", position)
        equals = text.find("=", position, semicolon if semicolon >= 0 else end)
        if equals < 0:
            if semicolon < 0:
                return
            position = semicolon + 1
            continue
        name, start = text[position:equals].strip().lower(), equals + 1
        while start < end and text[start] in " \t":
            start += 1
        if start < end and text[start] == '"':
            chars, cursor = [], start + 1
            while cursor < end and text[cursor] != '"':
                escaped = text[cursor] == "\\" and text[cursor + 1 : cursor + 2] in ('"', "\\")
                chars.append(text[cursor + 1] if escaped else text[cursor])
                cursor += 2 if escaped else 1
            value, stop = "".join(chars), text.find(";", cursor)
        else:
            stop = text.find(";", start)
            value = text[start : stop if stop >= 0 else end].strip()
        position = stop + 1 if stop >= 0 else end
        yield name, value


def header_params(value: str | None, *, hint: str | None = None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type or Content-Disposition value into its lower-cased token and decoded params.

    Handles RFC 2231 (`name*=charset'lang'%XX`, continuations `name*0*=`, `name*1=`), the
    non-standard RFC 2047 words inside quoted values, and raw 8-bit bytes.
    """
    if not value:
        return "", {}
    text = _FOLD.sub(b"", recover_bytes(value)).decode("utf-8", "surrogateescape")
    token, _, rest = text.partition(";")
    plain: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[bool, str]]] = {}
    for key, raw in _parameters(rest):
        parts = _SECTION.fullmatch(key)
        if parts is None:
            continue
        name, index, extended = parts.group(1), parts.group(2), parts.group(3)
        if index is None and not extended:
            plain.setdefault(name, decode_header(raw, hint=hint))
        else:
            sections.setdefault(name, {}).setdefault(int(index or 0), (bool(extended), raw))
    params = dict(plain)
    for name, pieces in sections.items():
        params[name] = _join_sections(pieces, hint=hint)
    return token.strip().lower(), params


def _join_sections(pieces: dict[int, tuple[bool, str]], *, hint: str | None) -> str:
    """Reassemble RFC 2231 sections: bytes first, then one decode with the charset of section 0."""
    charset: str | None = None
    data = b""
    for position, index in enumerate(sorted(pieces)):
        extended, raw = pieces[index]
        if position == 0 and extended and "'" in raw:
            # charset'language'text; a missing language apostrophe (seen in the wild) is tolerated.
            label, _, raw = raw.partition("'")
            raw = raw.partition("'")[2] if "'" in raw else raw
            charset = label or None
        data += unquote_to_bytes(recover_bytes(raw)) if extended else recover_bytes(raw)
    if b"=?" in data:
        return decode_header(data, hint=charset or hint)
    return decode_bytes(data, charset) if charset else _literal(data, hint)


def _meta_charset(data: bytes) -> str | None:
    """The charset an HTML part declares in a <meta> tag, for parts whose header declares none."""
    found = re.search(rb"<meta[^>]*charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", data[:4096], re.I)
    return found.group(1).decode("ascii") if found else None


_BLOCKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"})
_HIDDEN = frozenset({"script", "style", "title"})
_TAG_NAME = re.compile(r"/?([A-Za-z][A-Za-z0-9]*)")


def _strip_tags(markup: str) -> str:
    """Visible text of HTML, one line per block element, in one linear pass.

    Not html.parser: it takes minutes on hostile markup (100,000 unclosed `<a ` or `<![`).
    """
    chunks: list[str] = []
    lower = markup.lower()
    position, end = 0, len(markup)
    while position < end:
        opening = markup.find("<", position)
        if opening < 0:
            chunks.append(markup[position:])
            break
        chunks.append(markup[position:opening])
        if markup.startswith("<!--", opening):
            close = markup.find("-->", opening + 4)
            position = end if close < 0 else close + 3
            continue
        close = markup.find(">", opening + 1)
        if close < 0:
            chunks.append(markup[opening:])
            break
        tag = _TAG_NAME.match(markup, opening + 1, close)
        name = tag.group(1).lower() if tag else ""
        position = close + 1
        if name in _HIDDEN and not markup.startswith("</", opening):
            hidden_end = lower.find(f"</{name}", position)
            position = end if hidden_end < 0 else (lower.find(">", hidden_end) + 1 or end)
        elif name in _BLOCKS:
            chunks.append("\n")
    return unescape("".join(chunks))


def html_text(data: bytes, declared: str | None, *, hint: str | None = None) -> str:
    """The text a reader sees in an HTML body: tags, scripts and styles gone, entities decoded.

    The charset is the part's declared one, else the page's own <meta> charset, else `hint`.
    """
    text = _strip_tags(decode_bytes(data, declared or _meta_charset(data) or hint))
    lines = (" ".join(line.replace("\xa0", " ").split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
