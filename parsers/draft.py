"""One draft: a .docx (OOXML zip, word/document.xml) read for its title, body and sign-off.

Legacy files (OLE2 .doc/.wps, RTF saved as .doc) go through the Converter seam first. The text
is walked in document order: paragraphs, table cells, then text boxes (a text box once, even when
Word stores a VML copy in mc:Fallback); tracked deletions and field codes are not text. Headers
and footers are skipped: the sign-off lives in the body (附件3).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from parsers.signoff import parse_signoff
from parsers.types import Code, Converter, Draft, Limits, Problem, problem

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_RTF = b"{\\rtf"
_MAIN = "word/document.xml"
_OFFICE_DOCUMENT = "/officeDocument"
_CHUNK = 1024 * 1024
# The ratio is only held against parts above this size: small XML compresses 50 times and more.
_RATIO_FLOOR = 1024 * 1024
_NOTE = re.compile(r"^注\s*[:：]")
_SPACE = re.compile(r"\s+")

_W = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
)
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _tags(*names: str) -> frozenset[str]:
    return frozenset(f"{{{ns}}}{name}" for ns in _W for name in names)


_DOCUMENT = _tags("document")
_P = _tags("p")
_TBL = _tags("tbl")
_TR = _tags("tr")
_TC = _tags("tc")
_TEXT = _tags("t")
_SPACE_CHARS = _tags("tab", "ptab")
_BREAKS = _tags("br", "cr")
_HYPHEN = _tags("noBreakHyphen")
_TEXTBOX = _tags("txbxContent")
# Properties, tracked deletions and moves (the text reappears at w:moveTo), field codes.
_SKIP = _tags(
    "pPr", "rPr", "tblPr", "trPr", "tcPr", "sectPr", "del", "moveFrom", "instrText", "delText", "sdtPr"
)
_ALTERNATE = f"{{{_MC}}}AlternateContent"
_CHOICE = f"{{{_MC}}}Choice"
# Only read when an mc:AlternateContent has no mc:Choice.
_FALLBACK = f"{{{_MC}}}Fallback"


@dataclass(frozen=True)
class DraftResult:
    """The draft read (None when unreadable) and what is wrong with it."""

    draft: Draft | None
    problems: tuple[Problem, ...] = ()


class _UnreadableError(Exception):
    def __init__(self, code: Code, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def read_draft(
    data: bytes, *, source: str, images: int, limits: Limits, convert: Converter | None
) -> DraftResult:
    """Read one draft file; problems (unreadable, missing sign-off fields) are values."""
    name = posixpath.basename(source.rstrip("/")) or source
    suffix = _legacy_suffix(data, source)
    if suffix is not None:
        if data.startswith(_OLE2) and "EncryptedPackage".encode("utf-16-le") in data:
            return _failed(Code.UNREADABLE_DRAFT, source, name, "文档设置了打开密码")
        converted = convert(data, suffix=suffix) if convert is not None else None
        if converted is None:
            return _failed(Code.UNSUPPORTED_FORMAT, source, name, "旧版 Word/WPS 格式，请另存为 .docx")
        return read_draft(converted, source=source, images=images, limits=limits, convert=None)
    try:
        paragraphs = _paragraphs(_document_xml(data, limits))
    except _UnreadableError as exc:
        return _failed(exc.code, source, name, exc.detail)
    return _build(paragraphs, source=source, images=images)


def _legacy_suffix(data: bytes, source: str) -> str | None:
    """The suffix LibreOffice should see for a legacy file, or None for anything else."""
    if data.startswith(_RTF):
        return ".rtf"
    if not data.startswith(_OLE2):
        return None
    # Kingsoft WPS 文字 writes a Word binary (a WordDocument stream); Microsoft Works does not.
    if "WordDocument".encode("utf-16-le") in data:
        return ".doc"
    ext = posixpath.splitext(source.lower())[1]
    return ext if ext in (".wps", ".doc", ".dot", ".wpt") else ".doc"


def _failed(code: Code, source: str, name: str, detail: str = "") -> DraftResult:
    return DraftResult(None, (problem(code, source=source, name=name, detail=detail),))


def _document_xml(data: bytes, limits: Limits) -> bytes:
    if not data.startswith(_ZIP):
        raise _UnreadableError(Code.UNREADABLE_DRAFT, "不是有效的 Word 文档")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = {info.filename.lower(): info for info in zf.infolist()}
            info = infos.get(_main_part(zf, infos, limits).lower()) or infos.get(_MAIN)
            if info is None:
                raise _UnreadableError(Code.UNREADABLE_DRAFT, "不是有效的 Word 文档")
            return _read_member(zf, info, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError, OSError):
        raise _UnreadableError(Code.UNREADABLE_DRAFT, "文件已损坏") from None


def _main_part(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], limits: Limits) -> str:
    """The main document part named by _rels/.rels (almost always word/document.xml)."""
    rels = infos.get("_rels/.rels")
    if rels is None:
        return _MAIN
    try:
        root = _parse_xml(_read_member(zf, rels, limits))
    except _UnreadableError:
        return _MAIN
    for rel in root:
        if isinstance(rel.tag, str) and str(rel.get("Type", "")).endswith(_OFFICE_DOCUMENT):
            return posixpath.normpath(str(rel.get("Target", _MAIN))).lstrip("/")
    return _MAIN


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> bytes:
    """Read a part in chunks: its real size and ratio are checked, never the declared ones."""
    cap = limits.max_member_bytes
    buf = bytearray()
    with zf.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            buf += chunk
            if len(buf) > cap:
                raise _UnreadableError(
                    Code.ARCHIVE_LIMITS_EXCEEDED, f"文档正文超过 {cap // (1024 * 1024)} MB"
                )
            if len(buf) > _RATIO_FLOOR and len(buf) > limits.max_ratio * max(info.compress_size, 1):
                raise _UnreadableError(Code.ARCHIVE_LIMITS_EXCEEDED, "文档压缩比异常")
    return bytes(buf)


def _parse_xml(xml: bytes) -> etree._Element:
    # Word never writes a DTD: one in a part means an entity bomb or an external fetch (XXE).
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise _UnreadableError(Code.UNREADABLE_DRAFT, "文档含有不允许的 DTD 声明")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        raise _UnreadableError(Code.UNREADABLE_DRAFT, "文档内容已损坏") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise _UnreadableError(Code.UNREADABLE_DRAFT, "文档含有不允许的 DTD 声明")
    return root


def _paragraphs(xml: bytes) -> list[list[str]]:
    """Every paragraph in document order, each as its lines (w:br splits a paragraph)."""
    root = _parse_xml(xml)
    if root.tag not in _DOCUMENT:
        raise _UnreadableError(Code.UNREADABLE_DRAFT, "不是有效的 Word 文档")
    return [text.split("\n") for text in _blocks(root)]


def _children(el: etree._Element) -> Iterator[etree._Element]:
    """Children, with mc:AlternateContent replaced by its first Choice (else its Fallback)."""
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if child.tag == _ALTERNATE:
            chosen = next((c for c in child if c.tag == _CHOICE), None)
            if chosen is None:
                chosen = next((c for c in child if c.tag == _FALLBACK), None)
            if chosen is not None:
                yield from _children(chosen)
        elif child.tag not in _SKIP:
            yield child


def _blocks(el: etree._Element) -> Iterator[str]:
    """The paragraphs under a block container (body, cell, text box, content control)."""
    for child in _children(el):
        if child.tag in _P:
            yield from _paragraph(child)
        elif child.tag in _TBL:
            yield from _table(child)
        else:
            yield from _blocks(child)


def _paragraph(p: etree._Element) -> Iterator[str]:
    """A paragraph's text, then the paragraphs of the text boxes anchored in it."""
    parts: list[str] = []
    boxes: list[str] = []

    def inline(el: etree._Element) -> None:
        for child in _children(el):
            tag = child.tag
            if tag in _TEXT:
                parts.append(child.text or "")
            elif tag in _SPACE_CHARS:
                parts.append(" ")
            elif tag in _BREAKS:
                parts.append("\n")
            elif tag in _HYPHEN:
                parts.append("-")
            elif tag in _TEXTBOX:
                boxes.extend(_blocks(child))
            else:
                inline(child)

    inline(p)
    yield "".join(parts)
    yield from boxes


def _table(tbl: etree._Element) -> Iterator[str]:
    """Cells in order; a row of one-line cells becomes one line (“撰稿人 | 王强 | 初审人 | 刘洋”)."""
    for row in _descendants(tbl, _TR, stop=_TBL):
        cells = [list(_blocks(cell)) for cell in _descendants(row, _TC, stop=_TR)]
        lines = [[line for para in cell for line in para.split("\n") if line.strip()] for cell in cells]
        if all(len(cell) <= 1 for cell in lines) and sum(map(len, lines)) > 1:
            yield "  ".join(cell[0].strip() for cell in lines if cell)
        else:
            for cell in cells:
                yield from cell


def _descendants(
    el: etree._Element, tags: frozenset[str], *, stop: frozenset[str]
) -> Iterator[etree._Element]:
    """Rows of a table or cells of a row, also inside content controls, not in nested tables."""
    for child in _children(el):
        if child.tag in tags:
            yield child
        elif child.tag not in stop:
            yield from _descendants(child, tags, stop=stop)


def _build(paragraphs: list[list[str]], *, source: str, images: int) -> DraftResult:
    name = posixpath.basename(source.rstrip("/")) or source
    start = next((i for i, lines in enumerate(paragraphs) if any(s.strip() for s in lines)), None)
    if start is None:
        return _failed(Code.UNREADABLE_DRAFT, source, name, "文档内容为空")
    title = _title(paragraphs[start])
    lines = [s.strip() for lines in paragraphs[start + 1 :] for s in lines if s.strip()]
    result = parse_signoff(lines)
    kept = [(i, s) for i, s in enumerate(lines) if i not in result.consumed]
    first_signoff = min(result.consumed, default=len(lines))
    # Notes (“注：请将照片及稿件压缩……”) after the sign-off, or trailing the document, are not body.
    cut = next((k for k, (i, s) in enumerate(kept) if i > first_signoff and _NOTE.match(s)), len(kept))
    while cut and _NOTE.match(kept[cut - 1][1]):
        cut -= 1
    body = tuple(s for _, s in kept[:cut])
    normalised = [n for s in body if (n := _SPACE.sub("", unicodedata.normalize("NFKC", s)))]
    draft = Draft(
        source=source,
        title=title,
        # str.split() drops exactly the characters str.isspace() is true of, in C.
        chars=sum(len("".join(s.split())) for s in body),
        signoff=result.signoff,
        images=images,
        text_hash=hashlib.sha256("\n".join(normalised).encode("utf-8")).hexdigest(),
        body=body,
    )
    problems: list[Problem] = []
    if not draft.signoff.authors:
        problems.append(problem(Code.MISSING_AUTHOR, source=source, name=title))
    if draft.signoff.first_reviewer is None:
        problems.append(problem(Code.MISSING_FIRST_REVIEWER, source=source, name=title))
    if draft.signoff.second_reviewer is None:
        problems.append(problem(Code.MISSING_SECOND_REVIEWER, source=source, name=title))
    return DraftResult(draft, tuple(problems))


def _title(lines: list[str]) -> str:
    """One line of title, even when typed over two lines with Shift+Enter."""
    title = ""
    for line in (_SPACE.sub(" ", s).strip() for s in lines):
        if not line:
            continue
        wide = title and not title[-1].isascii() and not line[0].isascii()
        title = f"{title}{'' if wide or not title else ' '}{line}"
    return title
