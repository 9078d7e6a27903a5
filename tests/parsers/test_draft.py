"""Reading one draft: title, body, sign-off and hash from the .docx publicists send, and refusals."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.document import Document

from parsers.draft import DraftResult, read_draft
from parsers.types import Author, Code, Limits

TITLE = "市应急局参加XXX企业突发事故应急处置演练"
BODY = (
    "为深入践行第18个全国“安全生产月”和“安全生产万里行”活动，增强企业防范化解重大风险的能力。",
    "6月19日，XXX公司在作业现场开展了井喷突发事故等三项专项应急处置演练。",
)
SIGNOFF = ("撰稿人：危化科 王强", "初审人：刘洋    复审人：陈静")
SOURCE = "稿件.zip/演练/演练.docx"
CORPUS = Path("/work/shared/corpus/real/docx")
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = (
    f'xmlns:w="{W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:v="urn:schemas-microsoft-com:vml"'
)


def _document(*paragraphs: str, title: str | None = TITLE, heading: bool = False) -> Document:
    doc = docx.Document()
    if title is not None:
        doc.add_heading(title, level=1) if heading else doc.add_paragraph(title)
    for text in paragraphs:
        doc.add_paragraph(text)
    return doc


def _save(doc: Document) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _docx(*paragraphs: str, **kwargs: bool) -> bytes:
    return _save(_document(*paragraphs, **kwargs))


def _rewrite(data: bytes, change: Callable[[bytes], bytes], *, member: str = "word/document.xml") -> bytes:
    """The same package with one part changed (as Word or WPS would write it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            dst.writestr(info.filename, change(content) if info.filename == member else content)
    return out.getvalue()


def _inject(data: bytes, fragment: str) -> bytes:
    """Insert raw WordprocessingML paragraphs at the end of the body (before w:sectPr)."""
    return _rewrite(data, lambda xml: xml.replace(b"<w:sectPr", fragment.encode() + b"<w:sectPr", 1))


def _read(data: bytes, *, limits: Limits | None = None) -> DraftResult:
    return read_draft(data, source=SOURCE, images=2, limits=limits or Limits(), convert=None)


def _textbox(text: str, *, choice: bool = True, fallback: bool = True) -> str:
    """A floating text box as Word 2010+ writes it: DrawingML in mc:Choice, a VML copy in mc:Fallback."""
    box = f"<w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent>"
    parts = []
    if choice:
        parts.append(
            '<mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
            f"<wps:wsp><wps:txbx>{box}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
            "</mc:Choice>"
        )
    if fallback:
        parts.append(
            f"<mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict></mc:Fallback>"
        )
    return f"<w:p {NS}><w:r><w:t>图1</w:t></w:r><w:r><mc:AlternateContent>{''.join(parts)}</mc:AlternateContent></w:r></w:p>"


def _codes(result: DraftResult) -> list[Code]:
    return [p.code for p in result.problems]


def test_a_draft_in_the_sample_layout() -> None:
    """The 附件3 layout reads completely: title, body, sign-off, photo count, no problems."""
    result = _read(_docx(*BODY, *SIGNOFF))
    draft = result.draft
    assert draft is not None
    assert result.problems == ()
    assert draft.title == TITLE
    assert draft.body == BODY
    assert draft.chars == sum(len(p) for p in BODY)
    assert draft.signoff.authors == (Author("王强", "危化科"),)
    assert (draft.signoff.first_reviewer, draft.signoff.second_reviewer) == ("刘洋", "陈静")
    assert draft.to_json()["images"] == 2
    assert draft.source == SOURCE


def test_title_in_heading_style_after_blank_lines() -> None:
    """Blank paragraphs before a heading-styled title are skipped; the heading is the title."""
    doc = docx.Document()
    doc.add_paragraph("")
    doc.add_paragraph("\u3000 ")
    doc.add_heading(TITLE, level=1)
    doc.add_paragraph(BODY[0])
    draft = _read(_save(doc)).draft
    assert draft is not None
    assert (draft.title, draft.body) == (TITLE, BODY[:1])


def test_a_title_typed_over_two_lines() -> None:
    """A long title broken with Shift+Enter is one title, joined without a space."""
    doc = _document(BODY[0], title=None)
    run = doc.paragraphs[0].insert_paragraph_before().add_run("市应急局参加XXX企业突发事故")
    run.add_break()
    run.add_text("应急处置演练（示例）")
    draft = _read(_save(doc)).draft
    assert draft is not None
    assert draft.title == "市应急局参加XXX企业突发事故应急处置演练（示例）"


def test_signoff_split_across_runs() -> None:
    """Word splits a line into runs anywhere (spell check, a bold name); the label still joins."""
    doc = _document(*BODY)
    p = doc.add_paragraph()
    for piece in ("撰", "稿人", "：危化", "科 王", "强"):
        p.add_run(piece)
    p = doc.add_paragraph()
    for piece in ("初审", "人：刘洋\u3000\u3000", "复审人", "：", "陈静"):
        p.add_run(piece).bold = piece == "陈静"
    result = _read(_save(doc))
    assert result.problems == ()
    assert result.draft is not None
    assert result.draft.signoff.authors == (Author("王强", "危化科"),)
    assert result.draft.body == BODY


def test_signoff_in_the_last_paragraph_after_a_line_break_with_tabs() -> None:
    """w:br splits lines and w:tab is a space: “…进行↵撰稿人…↵初审⇥刘洋⇥复审⇥陈静” in one paragraph."""
    doc = _document(BODY[0])
    run = doc.add_paragraph().add_run(BODY[1])
    run.add_break()
    run.add_text("撰稿人：危化科 王强")
    run.add_break()
    for i, text in enumerate(("初审", "刘洋", "复审", "陈静")):
        if i:
            run.add_tab()
        run.add_text(text)
    result = _read(_save(doc))
    assert result.problems == ()
    assert result.draft is not None
    assert (result.draft.signoff.first_reviewer, result.draft.signoff.second_reviewer) == ("刘洋", "陈静")
    assert result.draft.body == BODY


def test_signoff_in_a_table_label_and_value_in_separate_cells() -> None:
    """A sign-off laid out as a table (label cell, value cell) reads like a typed line."""
    doc = _document(*BODY)
    table = doc.add_table(rows=2, cols=4)
    for cell, text in zip(table.rows[0].cells, ("撰稿人", "危化科 王强", "初审人", "刘洋"), strict=True):
        cell.text = text
    table.rows[1].cells[0].text = "复审人"
    table.rows[1].cells[1].text = "陈静"
    result = _read(_save(doc))
    assert result.problems == ()
    assert result.draft is not None
    assert result.draft.signoff.authors == (Author("王强", "危化科"),)
    assert result.draft.body == BODY


def test_signoff_in_one_table_cell_with_two_paragraphs() -> None:
    """A one-cell box around the sign-off: each paragraph of the cell is its own line."""
    doc = _document(*BODY)
    cell = doc.add_table(rows=1, cols=1).rows[0].cells[0]
    cell.text = "撰稿人：执法支队 赵敏、孙丽"
    cell.add_paragraph("初审人：刘洋 复审人：陈静")
    draft = _read(_save(doc)).draft
    assert draft is not None
    assert draft.signoff.authors == (Author("赵敏", "执法支队"), Author("孙丽", "执法支队"))
    assert draft.signoff.second_reviewer == "陈静"


def test_a_text_box_is_read_once_not_twice() -> None:
    """Word stores a text box twice (DrawingML and a VML fallback); its text counts once."""
    data = _inject(_docx(*BODY, *SIGNOFF), _textbox("现场演练照片说明"))
    draft = _read(data).draft
    assert draft is not None
    assert draft.body == (*BODY, "图1", "现场演练照片说明")


@pytest.mark.parametrize(
    ("choice", "fallback"), [(True, False), (False, True)], ids=["choice only", "fallback only"]
)
def test_a_text_box_with_one_representation(choice: bool, fallback: bool) -> None:
    """A text box written only as DrawingML, or only as VML (older Word, WPS), is still read."""
    data = _inject(_docx(*BODY), _textbox("撰稿人：危化科 王强", choice=choice, fallback=fallback))
    result = _read(data)
    assert result.draft is not None
    assert result.draft.signoff.authors == (Author("王强", "危化科"),)
    assert Code.MISSING_AUTHOR not in _codes(result)


def test_signoff_in_a_text_box_leaves_the_body() -> None:
    """A sign-off typed in a text box counts as the sign-off and not as body text."""
    data = _inject(_docx(*BODY), _textbox("撰稿人：危化科 王强") + _textbox("初审人：刘洋 复审人：陈静"))
    result = _read(data)
    assert result.problems == ()
    assert result.draft is not None
    assert result.draft.body == (*BODY, "图1", "图1")


def test_tracked_changes_and_field_codes_are_not_text() -> None:
    """Deleted or moved-away revisions and field instructions are invisible in Word: not body."""
    fragment = (
        f"<w:p {NS}><w:r><w:t>演练共</w:t></w:r><w:del><w:r><w:delText>三百</w:delText></w:r></w:del>"
        "<w:ins><w:r><w:t>二百</w:t></w:r></w:ins><w:r><w:t>人参加</w:t></w:r>"
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>2</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        '<w:moveFrom w:id="1" w:author="王强"><w:r><w:t>（旧位置）</w:t></w:r></w:moveFrom></w:p>'
    )
    draft = _read(_inject(_docx(BODY[0]), fragment)).draft
    assert draft is not None
    assert draft.body == (BODY[0], "演练共二百人参加2")


def test_strict_ooxml_namespace() -> None:
    """Word's “Strict Open XML” save uses another namespace for the same elements."""
    strict = b"http://purl.oclc.org/ooxml/wordprocessingml/main"
    data = _rewrite(_docx(*BODY, *SIGNOFF), lambda xml: xml.replace(W.encode(), strict))
    result = _read(data)
    assert result.draft is not None
    assert (result.draft.title, result.problems) == (TITLE, ())


def test_the_main_part_is_found_through_the_package_relationships() -> None:
    """Some editors name the main part word/document2.xml; _rels/.rels says where it is."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_docx(*BODY, *SIGNOFF))) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info).replace(b"word/document.xml", b"word/document2.xml")
            dst.writestr(info.filename.replace("document.xml", "document2.xml"), content)
    result = _read(out.getvalue())
    assert result.draft is not None
    assert (result.draft.title, result.problems) == (TITLE, ())


def test_notes_after_the_signoff_are_not_body() -> None:
    """The sample's “注：请各单位……压缩” line is left out; a note inside the text stays."""
    inner = "注：以上数据截至6月19日。"
    data = _docx(
        BODY[0],
        inner,
        BODY[1],
        *SIGNOFF,
        "注:请各单位、各科室将照片及稿件压缩到一个压缩包后发至邮箱",
        "（照片3张）",
    )
    draft = _read(data).draft
    assert draft is not None
    assert draft.body == (BODY[0], inner, BODY[1])


def test_a_trailing_note_without_signoff_is_not_body() -> None:
    """Without a sign-off the final “注：” lines are still notes, not article text."""
    draft = _read(_docx(BODY[0], "注：请压缩后发送")).draft
    assert draft is not None
    assert draft.body == BODY[:1]


@pytest.mark.parametrize(
    ("signoff", "codes"),
    [
        (SIGNOFF, []),
        (("撰稿人：危化科 王强", "初审人：刘洋"), [Code.MISSING_SECOND_REVIEWER]),
        (("撰稿人：危化科 王强", "复审人：陈静"), [Code.MISSING_FIRST_REVIEWER]),
        (("初审人：刘洋    复审人：陈静",), [Code.MISSING_AUTHOR]),
        (
            ("撰稿人:XX单位(科室)XXX", "初审人:XXX    复审人:XXX"),
            [Code.MISSING_AUTHOR, Code.MISSING_FIRST_REVIEWER, Code.MISSING_SECOND_REVIEWER],
        ),
        ((), [Code.MISSING_AUTHOR, Code.MISSING_FIRST_REVIEWER, Code.MISSING_SECOND_REVIEWER]),
    ],
    ids=["complete", "no second", "no first", "no author", "sample left unfilled", "no sign-off"],
)
def test_missing_signoff_fields(signoff: tuple[str, ...], codes: list[Code]) -> None:
    """Each missing field of the 三审 sign-off is one problem naming the draft by its title."""
    result = _read(_docx(*BODY, *signoff))
    assert result.draft is not None
    assert _codes(result) == codes
    for p in result.problems:
        assert f"《{TITLE}》" in p.message
        assert p.source == SOURCE


def test_the_hash_ignores_zip_layout_spacing_and_signoff() -> None:
    """The same article re-zipped, re-indented or with a corrected sign-off hashes the same."""
    base = _read(_docx(*BODY, *SIGNOFF)).draft
    rezipped = _read(_rewrite(_docx(*BODY, *SIGNOFF), lambda xml: xml)).draft
    indented = _read(_docx(*(f"\u3000\u3000{p} " for p in BODY), "撰稿人：执法支队 赵敏")).draft
    fullwidth = _read(_docx(*(p.replace("6", "６").replace("18", "１８") for p in BODY))).draft
    changed = _read(_docx(BODY[0], BODY[1].replace("三项", "四项"), *SIGNOFF)).draft
    assert base is not None
    assert rezipped is not None
    assert indented is not None
    assert fullwidth is not None
    assert changed is not None
    assert base.text_hash == rezipped.text_hash == indented.text_hash == fullwidth.text_hash
    assert changed.text_hash != base.text_hash
    assert len(base.text_hash) == 64


@pytest.mark.parametrize(
    "paragraphs", [(), ("", "\u3000\u3000", " ")], ids=["no paragraphs", "only whitespace"]
)
def test_an_empty_document(paragraphs: tuple[str, ...]) -> None:
    """A document with no text at all is unreadable, and says so."""
    result = _read(_docx(*paragraphs, title=None))
    assert result.draft is None
    assert _codes(result) == [Code.UNREADABLE_DRAFT]
    assert "文档内容为空" in result.problems[0].message
    assert "“演练.docx”" in result.problems[0].message


def _workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("这不是Word文档，只是一段文字".encode(), id="text named .docx"),
        pytest.param(b"", id="empty file"),
        pytest.param(_docx(*BODY)[:3000], id="truncated zip"),
        pytest.param(_workbook(), id="zip without word/document.xml"),
        pytest.param(_rewrite(_docx(*BODY), lambda xml: xml[: len(xml) // 2]), id="document.xml cut short"),
        pytest.param(
            _rewrite(
                _docx(*BODY),
                lambda xml: xml.replace(b"<w:document", b"<w:worksheet", 1).replace(
                    b"</w:document>", b"</w:worksheet>"
                ),
            ),
            id="main part is not a w:document",
        ),
        pytest.param(b"<html><body>\xe7\xa8\xbf\xe4\xbb\xb6</body></html>", id="web page saved as .doc"),
    ],
)
def test_not_a_word_document(data: bytes) -> None:
    """Whatever is not a .docx (nor a legacy file to convert) is an unreadable draft, not a crash."""
    result = _read(data)
    assert result.draft is None
    assert _codes(result) == [Code.UNREADABLE_DRAFT]


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE w:document [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n' for i in range(1, 10))
    + f']>\n<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>标题&xxe;</w:t></w:r></w:p></w:body></w:document>'
)


@pytest.mark.parametrize(
    "xml",
    [
        pytest.param(BILLION_LAUGHS.encode(), id="billion laughs"),
        pytest.param(XXE.encode(), id="external entity"),
        # UTF-16 hides the DOCTYPE from a byte scan; the parser still must not expand or fetch.
        pytest.param(
            XXE.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"), id="xxe utf-16"
        ),
        pytest.param(
            BILLION_LAUGHS.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"),
            id="billion laughs utf-16",
        ),
    ],
)
def test_entity_attacks_are_refused(xml: bytes) -> None:
    """A document.xml with a DTD is neither expanded nor allowed to fetch: it is unreadable."""
    result = _read(_rewrite(_docx(*BODY), lambda _: xml))
    assert result.draft is None
    assert _codes(result) == [Code.UNREADABLE_DRAFT]
    assert "root:" not in result.problems[0].message


@pytest.mark.parametrize(("depth", "readable"), [(200, True), (3000, False)])
def test_deeply_nested_markup(depth: int, readable: bool) -> None:
    """Nesting a real document never reaches is refused by the parser, never a Python crash."""
    nested = "<w:customXml>" * depth + "<w:p><w:r><w:t>正文</w:t></w:r></w:p>" + "</w:customXml>" * depth
    xml = f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>{TITLE}</w:t></w:r></w:p>{nested}</w:body></w:document>'
    result = _read(_rewrite(_docx(), lambda _: xml.encode()))
    assert (result.draft is not None) is readable
    if result.draft is None:
        assert _codes(result) == [Code.UNREADABLE_DRAFT]
    else:
        assert result.draft.body == ("正文",)


def test_a_compression_bomb_is_stopped() -> None:
    """A document.xml that inflates 1000 times is stopped early, whatever size it declares."""
    bomb = _docx(*BODY)
    filler = b" " * (20 * 1024 * 1024)
    bomb = _rewrite(bomb, lambda xml: xml.replace(b"<w:body>", b"<w:body>" + filler, 1))
    result = _read(bomb)
    assert result.draft is None
    assert _codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]


def test_the_member_size_limit() -> None:
    """An ordinary document.xml larger than the configured member limit is refused."""
    result = _read(_docx(*BODY), limits=Limits(max_member_bytes=1000))
    assert _codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """Overwrite the uncompressed size a zip declares for one member, in both headers."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        offset = zf.getinfo(member).header_offset
    struct.pack_into("<I", buf, offset + 22, size)
    at = buf.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", buf, at + 28)[0]
        if buf[at + 46 : at + 46 + name_len] == member.encode():
            struct.pack_into("<I", buf, at + 24, size)
        at = buf.find(b"PK\x01\x02", at + 4)
    return bytes(buf)


def test_a_zip_lying_about_sizes_is_unreadable_not_truncated() -> None:
    """A document.xml declaring 100 bytes but holding more is refused, never read half."""
    result = _read(_declare_size(_docx(*BODY), "word/document.xml", 100))
    assert result.draft is None
    assert _codes(result) == [Code.UNREADABLE_DRAFT]


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


class FakeConverter:
    """Stands in for LibreOffice: records the suffix, returns what it was given to return."""

    def __init__(self, result: bytes | None) -> None:
        self.result = result
        self.calls: list[str] = []

    def __call__(self, data: bytes, *, suffix: str) -> bytes | None:
        self.calls.append(suffix)
        return self.result


@pytest.mark.parametrize(
    ("data", "source", "suffix"),
    [
        pytest.param(OLE2 + "WordDocument".encode("utf-16-le"), "稿件.doc", ".doc", id="word 97 doc"),
        pytest.param(OLE2 + "WordDocument".encode("utf-16-le"), "稿件.wps", ".doc", id="kingsoft wps"),
        pytest.param(OLE2 + "WordDocument".encode("utf-16-le"), "稿件.docx", ".doc", id="a doc named docx"),
        pytest.param(OLE2 + "CONTENTS".encode("utf-16-le"), "稿件.wps", ".wps", id="microsoft works"),
        pytest.param(b"{\\rtf1\\ansi \\u31295?}", "稿件.doc", ".rtf", id="rtf saved as doc"),
    ],
)
def test_legacy_files_go_through_the_converter(data: bytes, source: str, suffix: str) -> None:
    """.doc and .wps are converted (the suffix tells LibreOffice the format) and then read."""
    convert = FakeConverter(_docx(*BODY, *SIGNOFF))
    result = read_draft(data, source=source, images=1, limits=Limits(), convert=convert)
    assert convert.calls == [suffix]
    assert result.draft is not None
    assert (result.draft.title, result.draft.source, result.problems) == (TITLE, source, ())


@pytest.mark.parametrize("convert", [None, FakeConverter(None)], ids=["no converter", "conversion failed"])
def test_a_legacy_file_without_conversion_asks_for_docx(convert: FakeConverter | None) -> None:
    """Without LibreOffice (or when it fails) the publicist is asked to save as .docx."""
    result = read_draft(OLE2, source="稿件.doc", images=0, limits=Limits(), convert=convert)
    assert result.draft is None
    assert _codes(result) == [Code.UNSUPPORTED_FORMAT]
    assert "另存为 .docx" in result.problems[0].message + result.problems[0].fix


def test_a_converter_handing_back_a_legacy_file_is_not_called_again() -> None:
    """Conversion happens once: a result that is still not .docx ends the attempt."""
    convert = FakeConverter(OLE2)
    result = read_draft(OLE2, source="稿件.doc", images=0, limits=Limits(), convert=convert)
    assert convert.calls == [".doc"]
    assert _codes(result) == [Code.UNSUPPORTED_FORMAT]


def test_a_password_protected_document_is_not_converted() -> None:
    """A password-protected .docx is an OLE2 box with an EncryptedPackage: unreadable, say why."""
    convert = FakeConverter(_docx(*BODY))
    data = OLE2 + "EncryptedPackage".encode("utf-16-le")
    result = read_draft(data, source="稿件.docx", images=0, limits=Limits(), convert=convert)
    assert convert.calls == []
    assert _codes(result) == [Code.UNREADABLE_DRAFT]
    assert "密码" in result.problems[0].message


def _corpus() -> list[Path]:
    return sorted(CORPUS.iterdir()) if CORPUS.is_dir() else []


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_real_documents_read_without_error(path: Path) -> None:
    """Every real .docx/.doc/.wps of the corpus gives a draft or a precise problem, never a crash."""
    data = path.read_bytes()
    result = read_draft(data, source=path.name, images=0, limits=Limits(), convert=None)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        assert _codes(result) == [Code.UNSUPPORTED_FORMAT]
    else:
        assert result.draft is not None
        assert result.draft.title


def _real(name: str) -> tuple[str, ...]:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {path} not present")
    draft = read_draft(path.read_bytes(), source=name, images=0, limits=Limits(), convert=None).draft
    assert draft is not None
    return (draft.title, *draft.body)


def test_real_text_boxes_are_read_once() -> None:
    """poi-tl 554: two text boxes hold “{{@test_img}}”, a plain paragraph a third; labels with spaces."""
    text = _real("poitl__issue_554_textbox_labels.docx")
    assert text.count("{{@test_img}}") == 3
    assert any(line.startswith("收件人：") for line in text)
    assert any(line.startswith("日  期：") for line in text)


def test_real_seal_fields_in_text_boxes() -> None:
    """poi-tl 713: 甲方/乙方 fields live only in text boxes, each read exactly once."""
    text = "\n".join(_real("poitl__issue_713_textbox_seal.docx"))
    assert text.count("甲方（盖章）：") == 1
    assert text.count("乙方（盖章）：") == 1


def test_real_tracked_deletions_are_skipped() -> None:
    """poi-tl 636: a form deleted with change tracking on leaves only the surviving text."""
    text = "\n".join(_real("poitl__issue_636_project_form_header.docx"))
    assert "横向项目立项申报表" in text
    assert "项目名称" not in text


def test_real_ooxml_saved_with_a_wps_name() -> None:
    """A WPS Office file named .wps that is really OOXML is read by content, table rows included."""
    text = _real("wps__ooxml_saved_as_wps.wps")
    assert text[0] == "Dsagfadsdvdvdc"
    assert "7  7  单词" in text
