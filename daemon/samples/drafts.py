"""Drafts (.docx) as publicists type them in WPS or Word, with fixed timestamps so the bytes are stable."""

from __future__ import annotations

import copy
import functools
import io
import zipfile
from collections.abc import Sequence
from datetime import datetime

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from daemon.samples.stamps import _FIXED, _dos_time


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
