"""The monthly notice as an official document (.docx), laid out after GB/T 9704-2012.

A4 portrait, margins 37/35/28/26 mm (top/bottom/left/right); title in 方正小标宋简体 2号 (22 pt),
body in 仿宋_GB2312 3号 (16 pt) at a fixed 28 pt line pitch, first-level headings in 黑体 and
second-level ones in 楷体_GB2312; page numbers "— 1 —" in 宋体 4号, odd pages right, even pages
left. The table goes on a landscape attachment page (ten columns do not fit 156 mm).

Chinese font names are written into w:rFonts/@w:eastAsia (Word reads East Asian text from there
only) and declared in the font table with an w:altName, which Word uses when the named font is
missing (仿宋_GB2312 → 仿宋 on a Windows without the GB2312 fonts). LibreOffice ignores altName
and falls back by language, which is why every run is tagged zh-CN.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Sequence
from decimal import Decimal

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from outbox.notice import FOOTNOTE, Notice
from outbox.render import cn_date
from scoring.results import format_points

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
NUMBER_FONT = "宋体"
# (name, what Word substitutes when it is missing, w:family): the font table's fallbacks.
FONTS = (
    (TITLE_FONT, "宋体", "roman"),
    (BODY_FONT, "仿宋", "modern"),
    (HEADING_FONT, "SimHei", "modern"),
    (SUBHEADING_FONT, "楷体", "modern"),
    (NUMBER_FONT, "SimSun", "auto"),
)
BODY = Pt(16)
PITCH = Pt(28)  # GB/T 9704: 22 lines on the 225 mm text block
INDENT = Pt(32)  # two characters of 3号
CELL = Pt(10.5)  # 五号, the table


def notice_docx(notice: Notice) -> bytes:
    """The .docx bytes of `notice` (deterministic for a given notice)."""
    doc = Document()
    _setup(doc, notice)
    _body(doc, notice)
    _attachment(doc, notice)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _setup(doc: DocumentObject, notice: Notice) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(22)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)
    normal = doc.styles["Normal"]
    rpr = normal.element.get_or_add_rPr()
    _fonts(rpr, BODY_FONT)
    _lang(rpr)
    normal.font.size = BODY
    fmt = normal.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, PITCH
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.widow_control = False
    _font_table(doc)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = notice.subject, notice.office, notice.office
    props.created = props.modified = notice.file_time
    props.revision = notice.correction or 1
    props.comments = props.keywords = props.subject = ""


def _body(doc: DocumentObject, notice: Notice) -> None:
    year, month = notice.year_month
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _spacing(title, Pt(35), after=PITCH)
    # Break the title where the sense breaks, not where the line runs out.
    _run(title, f"关于{year}年{month}月份政务信息报送", TITLE_FONT, Pt(22))
    title.runs[-1].add_break(WD_BREAK.LINE)
    _run(title, "及采用情况的通报" + ("（更正）" if notice.correction else ""), TITLE_FONT, Pt(22))
    _text(doc, notice.recipients, indent=False)
    for text in notice.correction_lines:
        _text(doc, text)
    _text(doc, notice.intro)
    for heading, paragraphs in notice.sections():
        _heading(doc, heading)
        for kind, text in paragraphs:
            if kind == "sub":
                _heading(doc, text, font=SUBHEADING_FONT)
            else:
                _text(doc, text)
    # From the footnote down everything keeps with the next paragraph, so the signature never
    # stands alone on a page (GB/T 9704 7.3.5: no page without body text above the signature).
    tail = [_text(doc, FOOTNOTE), doc.add_paragraph()]
    attachment = _text(doc, f"附件：{year}年{month}月份政务信息报送及采用情况统计表")
    # A wrapped attachment name lines up after "附件：".
    attachment.paragraph_format.left_indent = INDENT + Pt(48)
    attachment.paragraph_format.first_line_indent = -Pt(48)
    tail += [attachment, doc.add_paragraph()]  # GB/T 9704 7.3.5.2: one blank line, then the office
    for p in tail:
        p.paragraph_format.keep_with_next = True
    _signature(doc, notice)


def _signature(doc: DocumentObject, notice: Notice) -> None:
    # GB/T 9704 7.3.5.2 without a seal: the office two characters in from the right, the date on
    # the next line starting two characters to the right of the office's first character.
    office = _text(doc, notice.office, indent=False)
    office.paragraph_format.keep_with_next = True
    office.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    office.paragraph_format.right_indent = INDENT
    date = cn_date(notice.issued)
    day = _text(doc, date, indent=False)
    day.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    shift = max(0.0, _width(notice.office) - _width(date) - 2)
    day.paragraph_format.right_indent = Pt(32 + 16 * shift)


def _width(text: str) -> float:
    return sum(0.5 if ch.isascii() else 1.0 for ch in text)


def _attachment(doc: DocumentObject, notice: Notice) -> None:
    year, month = notice.year_month
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(20), Mm(22)
    section.left_margin, section.right_margin = Mm(30), Mm(28)
    section.footer_distance = Mm(10)
    label = doc.add_paragraph()
    _spacing(label, Pt(22))
    _run(label, "附件", HEADING_FONT, BODY)
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _spacing(heading, Pt(26), after=Pt(4))
    _run(heading, f"{year}年{month}月份政务信息报送及采用情况统计表", TITLE_FONT, Pt(18))
    _table(doc, notice)
    note = doc.add_paragraph()
    _spacing(note, Pt(16), before=Pt(3))
    _run(
        note,
        "注：其他加减分含调研类、经验类信息，约稿、栏目更新及办公室登记的加减分；得分明细见同名电子表格；"
        "分值按两位小数显示。",
        BODY_FONT,
        Pt(10.5),
    )


# Column widths (mm) of the 239 mm landscape text block: 序号, 单位, 报送, channels…, then 3 scores.
_FIXED = (11, 40, 24)
_TAIL = (18, 19, 19)


def _table(doc: DocumentObject, notice: Notice) -> None:
    columns = notice.columns
    headers = [
        "序号",
        "单位",
        f"报送篇数\n（{format_points(notice.draft_points)}分/篇）",
        *(f"{c.channel}\n（{format_points(c.points)}分/篇）" for c in columns),
        "其他\n加减分",
        "本月得分",
        "累计得分",
    ]
    rest = 239 - sum(_FIXED) - sum(_TAIL)
    widths = [*_FIXED, *([rest / max(1, len(columns))] * len(columns)), *_TAIL]
    table = doc.add_table(rows=1, cols=len(headers))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Fixed layout with the grid set: LibreOffice sizes columns from w:tblGrid, Word from the cells.
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Mm(width)
    _borders(table)
    _cells(table.rows[0].cells, headers, widths, font=HEADING_FONT, size=Pt(10))
    _repeat_header(table)
    # A province has 200 units: the first row is built cell by cell, the others are copies of it
    # with their own text (python-docx takes ~5 ms a row), whenever the text needs no more than
    # one plain w:t per cell.
    template: etree._Element | None = None
    for r in notice.rows:
        values = [
            str(r.number),
            r.unit,
            str(r.submitted),
            *(str(n) for n in r.adopted),
            format_points(r.bonus),
            format_points(r.score),
            format_points(r.cumulative),
        ]
        plain = all(_plain(v) for v in values)
        if template is not None and plain:
            table._tbl.append(_copy_row(template, values))
            continue
        row = table.add_row()
        _cells(row.cells, values, widths)
        if plain:
            template = row._tr
    totals = [
        "合计",
        "",  # the merged 单位 cell
        str(notice.submitted),
        *(str(notice.adopted_total(c)) for c in columns),
        format_points(sum((r.bonus for r in notice.rows), Decimal(0))),
        format_points(sum((r.score for r in notice.rows), Decimal(0))),
        format_points(sum((r.cumulative for r in notice.rows), Decimal(0))),
    ]
    last = table.add_row().cells
    # Merge first: merging filled cells would stack their paragraphs.
    merged = last[0].merge(last[1])
    _cells(
        [merged, *last[2:]], [totals[0], *totals[2:]], [widths[0] + widths[1], *widths[2:]], font=HEADING_FONT
    )


def _cells(
    cells: Sequence[_Cell],
    values: Sequence[str],
    widths: Sequence[float],
    *,
    font: str = BODY_FONT,
    size: Length = CELL,
) -> None:
    for cell, value, width in zip(cells, values, widths, strict=True):
        cell.width = Mm(width)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        p = cell.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _spacing(p, Pt(13))
        p.paragraph_format.first_line_indent = Pt(0)
        for n, line in enumerate(value.split("\n")):
            if n:
                p.runs[-1].add_break(WD_BREAK.LINE)
            _run(p, line, font, size)


def _plain(text: str) -> bool:
    # What Run.text writes as one w:t without xml:space: no break, tab or edge whitespace.
    return bool(text) and text == text.strip() and not any(c in text for c in "\t\n\r")


def _copy_row(template: etree._Element, values: Sequence[str]) -> etree._Element:
    row = copy.deepcopy(template)
    texts = list(row.iter(qn("w:t")))
    assert len(texts) == len(values)
    for t, value in zip(texts, values, strict=True):
        t.text = value
    return row


def _borders(table: Table) -> None:
    tbl_pr: etree._Element = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "6")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    tbl_pr.append(borders)
    margins = OxmlElement("w:tblCellMar")
    for edge, twips in (("top", 20), ("bottom", 20), ("left", 60), ("right", 60)):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(twips))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tbl_pr.append(margins)


def _repeat_header(table: Table) -> None:
    tr_pr: etree._Element = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _heading(doc: DocumentObject, text: str, *, font: str = HEADING_FONT) -> Paragraph:
    p = doc.add_paragraph()
    p.paragraph_format.first_line_indent = INDENT
    p.paragraph_format.keep_with_next = True
    _run(p, text, font, BODY)
    return p


def _text(doc: DocumentObject, text: str, *, indent: bool = True) -> Paragraph:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if indent:
        p.paragraph_format.first_line_indent = INDENT
    _run(p, text, BODY_FONT, BODY)
    return p


def _spacing(p: Paragraph, line: Length, *, before: int = 0, after: int = 0) -> None:
    """Exact line height `line`; `before` and `after` in EMU (Pt(6) …)."""
    fmt = p.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, line
    fmt.space_before, fmt.space_after = Length(before), Length(after)


def _run(p: Paragraph, text: str, font: str, size: Length) -> None:
    run = p.add_run(text)
    run.font.size = size
    rpr = run._r.get_or_add_rPr()
    _fonts(rpr, font)
    _lang(rpr)


def _fonts(rpr: etree._Element, font: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)


def _lang(rpr: etree._Element) -> None:
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")  # Latin text (digits): zh-CN would let a line break inside "23"
    lang.set(qn("w:eastAsia"), "zh-CN")


def _page_number(p: Paragraph, align: WD_ALIGN_PARAGRAPH) -> None:
    """— 1 — with a PAGE field, one character in from the outer edge (GB/T 9704 7.5)."""
    p.alignment = align
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        p.paragraph_format.right_indent = Pt(14)
    else:
        p.paragraph_format.left_indent = Pt(14)
    _run(p, "— ", NUMBER_FONT, Pt(14))
    for kind in ("begin", "instr", "separate", "shown", "end"):
        run = p.add_run()
        run.font.size = Pt(14)
        _fonts(run._r.get_or_add_rPr(), NUMBER_FONT)
        r: etree._Element = run._r
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = " PAGE "
            r.append(instr)
        elif kind == "shown":
            run.text = "1"  # what a reader without field updates sees; Word and LibreOffice update it
        else:
            field = OxmlElement("w:fldChar")
            field.set(qn("w:fldCharType"), kind)
            r.append(field)
    _run(p, " —", NUMBER_FONT, Pt(14))


def _font_table(doc: DocumentObject) -> None:
    part = doc.part.part_related_by(RELATIONSHIP_TYPE.FONT_TABLE)
    root = etree.fromstring(part.blob)
    for name, alt, family in FONTS:
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        for tag, value in (("w:altName", alt), ("w:charset", "86"), ("w:family", family)):
            el = OxmlElement(tag)
            el.set(qn("w:val"), value)
            font.append(el)
        root.append(font)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
