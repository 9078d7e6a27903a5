"""The monthly notice as the bureau's official document: A4 after GB/T 9704, official fonts, the table.

Rendering is checked as a person sees it too: LibreOffice turns the .docx into a PDF (and
pdftoppm into a PNG), and the PDF's text must hold the title and every unit of the table.
"""

from __future__ import annotations

import copy
import io
import shutil
import subprocess
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from lxml import etree

from outbox.notice import build_notice
from outbox.notice_docx import notice_docx
from scoring.calendar import WorkCalendar
from scoring.engine import score_month
from scoring.periods import parse_month
from scoring.records import ResponseRecord, SolicitationRecord
from tests.libreoffice import convert
from tests.outbox.notice_cases import ADOPTED, TITLE, UNIT_NAMES, june_correction, june_notice, june_records
from tests.scoring.builders import PANJIN, UNITS, at


def open_docx(data: bytes) -> DocumentObject:
    return Document(io.BytesIO(data))


def east_asia(p: Paragraph) -> set[str | None]:
    return {r._r.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) for r in p.runs if r.text.strip()}


def body_texts(doc: DocumentObject) -> list[str]:
    return [p.text for p in doc.paragraphs]


def test_the_page_is_a4_with_the_official_margins() -> None:
    """GB/T 9704: A4 portrait, 37 mm top, 35 mm bottom, 28 mm left, 26 mm right; the table page is landscape."""
    doc = open_docx(notice_docx(june_notice()))
    text, table = doc.sections
    # Word stores twips: compare in whole millimetres.
    assert [round(x.mm) for x in (text.page_width, text.page_height)] == [210, 297]
    margins = (text.top_margin, text.bottom_margin, text.left_margin, text.right_margin)
    assert [round(x.mm) for x in margins] == [37, 35, 28, 26]
    assert table.orientation == WD_ORIENT.LANDSCAPE
    assert table.page_width > table.page_height


def test_title_body_and_headings_use_the_official_fonts() -> None:
    """方正小标宋简体 2号 for the title (East Asian font set), 仿宋_GB2312 3号 for the text, 黑体 headings."""
    doc = open_docx(notice_docx(june_notice()))
    title = doc.paragraphs[0]
    assert title.text.replace("\n", "") == TITLE
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert east_asia(title) == {"方正小标宋简体"}
    assert {r.font.size for r in title.runs} == {Pt(22)}
    recipients = doc.paragraphs[1]
    assert recipients.text == "各县区应急局，经济区应急部、机关各科室、服务中心及执法队："
    assert east_asia(recipients) == {"仿宋_GB2312"}
    assert {r.font.size for r in recipients.runs} == {Pt(16)}
    heading = next(p for p in doc.paragraphs if p.text == "一、总体情况")
    assert east_asia(heading) == {"黑体"}
    # Fallbacks for a Word without the GB2312 fonts, declared in the font table.
    table = doc.part.part_related_by(RELATIONSHIP_TYPE.FONT_TABLE).blob.decode("utf-8")
    assert 'w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>' in table
    assert 'w:name="方正小标宋简体"><w:altName w:val="宋体"/>' in table


def test_pages_are_numbered_in_the_footer_with_a_page_field() -> None:
    """— 1 —: a PAGE field between dashes, odd pages right and even pages left."""
    doc = open_docx(notice_docx(june_notice()))
    section = doc.sections[0]
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        p = footer.paragraphs[0]
        assert p.alignment == align
        assert p.text == "— 1 —"
        assert p._p.xpath(".//w:instrText")[0].text.strip() == "PAGE"


def test_the_table_lists_every_unit_with_points_in_the_headers() -> None:
    """Every configured unit, 盘山县 with nothing too; each channel's header shows its points."""
    doc = open_docx(notice_docx(june_notice()))
    (table,) = doc.tables
    headers = [c.text.replace("\n", "") for c in table.rows[0].cells]
    assert headers == [
        "序号",
        "单位",
        "报送篇数（0.3分/篇）",
        "市委盘锦信息（1分/篇）",
        "市政府政务信息（1分/篇）",
        "省级（3分/篇）",
        "国家级（5分/篇）",
        "其他加减分",
        "本月得分",
        "累计得分",
    ]
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert [r[1] for r in rows[:-1]] == list(UNIT_NAMES)
    assert rows[0] == ["1", "危化科", "5", "0", "1", "1", "0", "3", "8.1", "10.3"]
    assert rows[2] == ["3", "盘山县应急管理局", "0", "0", "0", "0", "0", "0", "0", "0"]
    assert rows[-1][0] == "合计"
    assert rows[-1][2:] == ["10", "0", "1", "1", "0", "3", "9.7", "11.9"]


def test_the_table_can_be_ordered_by_score() -> None:
    """`[notice] order = "score"`: highest month score first, ties in configured order."""
    doc = open_docx(notice_docx(june_notice(order="score")))
    units = [row.cells[1].text for row in doc.tables[0].rows[1:-1]]
    assert units == ["危化科", "宣教科", "综合行政执法队", "盘山县应急管理局"]


def test_the_text_praises_names_the_shortfalls_and_lists_adopted_titles() -> None:
    """The best unit that met every quota is praised; those that did not are named and asked to
    explain (二(四)); adopted titles carry their unit in brackets; the footnote and the signature."""
    doc = open_docx(notice_docx(june_notice()))
    text = body_texts(doc)
    assert "宣教科信息报送积极、质量较高，本月得分位居前列，予以通报表扬。" in text
    # Units that sent nothing are named together, the others one by one.
    silent = text.index("（一）本月未报送信息的单位（2个）")
    assert text[silent + 1] == "综合行政执法队、盘山县应急管理局。"
    assert text[silent + 2 : silent + 4] == [
        "（二）未完成每周或每月报送任务的单位",
        "1．危化科：第26周未报送。",
    ]
    assert any("负责人向局办公室说明情况" in t for t in text)
    assert text.count(f"1．《{ADOPTED}》（危化科）") == 2  # the city and the province
    assert "（一）市政府《政务信息》采用1篇" in text
    assert "如统计错误，请及时提出，以便核实。" in text
    office, day = (p for p in doc.paragraphs if p.text in ("盘锦市应急管理局办公室", "2025年7月1日"))
    assert office.alignment == day.alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_the_document_is_signed_by_the_office_at_nine_on_the_issue_day() -> None:
    """Word's file properties: author and last editor the issuing office, revision N for the N-th
    correction, created at 09:00 Beijing time on the issue day (stored in UTC, as Word does)."""
    doc = open_docx(notice_docx(june_notice()))
    props = doc.core_properties
    assert (props.author, props.last_modified_by, props.revision) == ("盘锦市应急管理局办公室",) * 2 + (1,)
    assert props.created == props.modified
    assert props.created.replace(tzinfo=None) == datetime(2025, 7, 1, 1, 0)
    core = doc.part.package.part_related_by(RELATIONSHIP_TYPE.CORE_PROPERTIES).blob.decode()
    assert ">2025-07-01T01:00:00Z<" in core
    correction = open_docx(notice_docx(june_correction())).core_properties
    assert correction.revision == 1
    assert correction.created.replace(tzinfo=None) == datetime(2025, 7, 8, 1, 0)


def test_a_correction_says_so_in_its_title_and_lists_the_changes() -> None:
    """The province withdrew an adoption: 通报（更正）, naming the notice corrected and each change."""
    doc = open_docx(notice_docx(june_correction()))
    assert doc.paragraphs[0].text.replace("\n", "") == TITLE + "（更正）"
    text = body_texts(doc)
    assert any(t.startswith("我局2025年7月1日印发的《" + TITLE + "》中部分内容有误") for t in text)
    assert (
        "1．危化科：省级采用由1篇更正为0篇，本月得分由8.1分更正为5.1分，累计得分由10.3分更正为7.3分。" in text
    )
    assert f"2．撤销采用：《{ADOPTED}》（危化科，省级）。" in text
    assert "2025年7月8日" in text
    notice = june_correction()
    assert notice.filename == "2025年6月份政务信息通报（更正）"
    assert replace(notice, correction=2).filename == "2025年6月份政务信息通报（更正2）"


def test_column_shortfalls_and_solicitations_have_their_own_sections() -> None:
    """June judged for columns from 1 June: 宣教科 misses 动态要闻 days, 危化科 its monthly
    企业安全承诺; of the 汛期安全 约稿 for 危化科 and 宣教科, 危化科 answered (graded 2) and 宣教科
    never did. Both sections list each unit's items from the scores' lines; 盘山县 owes only the
    county's WeChat columns."""
    subs, adoptions = june_records()
    scores = score_month(
        month=parse_month("2025-06"),
        units=UNITS,
        submissions=subs,
        adoptions=adoptions,
        entries=(),
        history=(),
        profile=PANJIN,
        calendar=WorkCalendar(),
        now=at("2025-07-01", 9),
        solicitations=[SolicitationRecord(1, "汛期安全", date(2025, 6, 20), ("危化科", "宣教科"))],
        responses=[ResponseRecord(1, 1, 102, grade=2)],
        columns_from=date(2025, 6, 1),
    )
    notice = build_notice(
        scores=scores,
        submissions=subs,
        adoptions=adoptions,
        profile=PANJIN,
        calendar=WorkCalendar(),
        bureau="盘锦市应急管理局",
        office="盘锦市应急管理局办公室",
        issued=date(2025, 7, 1),
        now=at("2025-07-01", 9),
    )
    text = body_texts(open_docx(notice_docx(notice)))
    headings = [t for t in text if t.endswith(("栏目更新情况", "约稿完成情况", "信息采用情况"))]
    assert [h[2:] for h in headings] == ["栏目更新情况", "约稿完成情况", "信息采用情况"]
    columns = text[text.index(headings[0]) + 1 : text.index(headings[1])]
    assert any(t.startswith(tuple(f"{n}．宣教科：局网站“动态要闻”" for n in range(1, 40))) for t in columns)
    assert any("危化科：" in t and "企业安全承诺" in t for t in columns)
    assert any("盘山县应急管理局：" in t and "县区应急专栏" in t for t in columns)
    assert not any("盘山县应急管理局：" in t and "动态要闻" in t for t in columns)
    solicited = text[text.index(headings[1]) + 1 : text.index(headings[2])]
    assert solicited == [
        "1．危化科：约稿《汛期安全》：《危化科联合执法队夜查油气储存企业》评2分，计2分。",
        "2．宣教科：约稿《汛期安全》（截止6月20日）未报送，计0分。",
    ]


def test_a_month_without_columns_or_solicitations_has_neither_section() -> None:
    """Shortfalls not judged (no columns_from) and nothing solicited: the notice reads as before."""
    text = body_texts(open_docx(notice_docx(june_notice())))
    assert not any(t.endswith(("栏目更新情况", "约稿完成情况")) for t in text)


@pytest.mark.libreoffice
def test_libreoffice_renders_the_notice_with_its_table(tmp_path: Path) -> None:
    """LibreOffice headless turns the .docx into a PDF whose text holds the title and every unit
    of the table; pdftoppm makes page 1 a PNG (what docs/notice-2025-06-page1.png shows)."""
    soffice, pdftoppm, pdftotext = (shutil.which(t) for t in ("soffice", "pdftoppm", "pdftotext"))
    if not (soffice and pdftoppm and pdftotext):
        pytest.skip("needs LibreOffice (libreoffice-writer-nogui) and poppler-utils")
    source = tmp_path / "notice.docx"
    source.write_bytes(notice_docx(june_notice()))
    convert(source, "pdf", tmp_path, profile=tmp_path / "lo-profile")
    pdf = tmp_path / "notice.pdf"
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = "".join(text.split())
    assert TITLE in flat
    for unit in UNIT_NAMES:
        assert unit in flat
    assert "如统计错误，请及时提出，以便核实" in flat
    subprocess.run(
        [pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    (png,) = tmp_path.glob("page*.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_row_of_a_provinces_table_is_formatted_like_the_first() -> None:
    """200 units: the rows after the first are copies of it with their own figures, so each is the
    same XML but for its text; a unit written with a space at its end (the copy writes plain text
    only) is built cell by cell and keeps the space."""
    notice = june_notice()
    many = tuple(replace(notice.rows[n % 4], number=n + 1, unit=f"第{n + 1:03d}单位") for n in range(200))
    spaced = replace(many[7], unit="第008单位 ")
    doc = open_docx(notice_docx(replace(notice, rows=(*many[:7], spaced, *many[8:]))))
    (table,) = doc.tables
    rows = table.rows[1:-1]
    assert [r.cells[1].text for r in rows] == [r.unit for r in (*many[:7], spaced, *many[8:])]
    assert rows[150].cells[8].text == str(many[150].score.normalize())

    def shape(tr: object) -> bytes:
        clone = copy.deepcopy(tr)
        for t in clone.iter(qn("w:t")):  # type: ignore[attr-defined]
            t.text = ""
            t.attrib.pop("{http://www.w3.org/XML/1998/namespace}space", None)
        return etree.tostring(clone)

    first = shape(rows[0]._tr)
    assert all(shape(r._tr) == first for r in rows)
    assert rows[7].cells[1].paragraphs[0].runs[0]._r.find(qn("w:t")).get(qn("xml:space")) == "preserve"
