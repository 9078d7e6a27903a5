"""A whole submission email read end to end: MIME, archives, drafts, photos, problems."""

from __future__ import annotations

import zipfile
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path

import pytest

from daemon.samples import make_docx, make_jpeg, make_submission_email, make_zip
from parsers.submission import parse_message
from parsers.types import Code, Limits

CST = timezone(timedelta(hours=8))
WHEN = datetime(2025, 6, 20, 9, 30, tzinfo=CST)
LIMITS = Limits()
BODY = ["6月19日，市应急局组织开展危化企业专项检查，共检查企业12家，发现并督促整改隐患23项。"]
SIGNED = ["撰稿人：危化科 王强", "初审人：刘洋    复审人：陈静"]
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "real"


def _docx(title: str, signoff: list[str] = SIGNED) -> bytes:
    return make_docx(title=title, paragraphs=BODY, signoff_lines=signoff)


def _mail(*attachments: tuple[str, bytes], **kw: object) -> bytes:
    return make_submission_email(
        sender="wangqiang.wh@163.com",
        sender_name="王强",
        to="pjyjjbgs@163.com",
        subject=str(kw.pop("subject", "危化科信息")),
        date=WHEN,
        attachments=attachments,
        **kw,  # type: ignore[arg-type]
    )


def _photo(seed: int) -> bytes:
    return make_jpeg(width=32, height=24, seed=seed)


def test_a_county_bureau_sends_a_gbk_named_zip_with_two_drafts_in_two_folders() -> None:
    """Each draft keeps its own photos: those of its folder, not the other draft's."""
    package = make_zip(
        [
            ("稿件一/危化企业专项检查.docx", _docx("危化企业专项检查")),
            ("稿件一/图1.jpg", _photo(1)),
            ("稿件一/图2.jpg", _photo(2)),
            ("稿件二/汛期值班.docx", _docx("汛期值班工作部署")),
            ("稿件二/现场.jpg", _photo(3)),
        ],
        gbk_names=True,
    )
    parsed = parse_message(_mail(("盘山县信息.zip", package)), limits=LIMITS)
    assert parsed.problems == ()
    by_title = {d.title: d for d in parsed.drafts}
    assert by_title["危化企业专项检查"].images == 2
    assert by_title["汛期值班工作部署"].images == 1
    assert by_title["危化企业专项检查"].source == "盘山县信息.zip/稿件一/危化企业专项检查.docx"


def test_a_bare_docx_with_photos_beside_it_is_one_draft() -> None:
    """Not everyone zips: a .docx and two photos attached directly make one draft with 2 photos."""
    parsed = parse_message(
        _mail(("检查.docx", _docx("危化企业专项检查")), ("1.jpg", _photo(1)), ("2.jpg", _photo(2))),
        limits=LIMITS,
    )
    assert [(d.title, d.images) for d in parsed.drafts] == [("危化企业专项检查", 2)]
    assert parsed.drafts[0].signoff.first_reviewer == "刘洋"
    assert parsed.problems == ()


def test_a_zip_of_photos_only_says_the_draft_is_missing() -> None:
    """The publicist forgot the Word file: the rejection names the archive."""
    parsed = parse_message(_mail(("照片.zip", make_zip([("1.jpg", _photo(1))]))), limits=LIMITS)
    assert parsed.drafts == ()
    assert [p.code for p in parsed.problems] == [Code.NO_DRAFT]
    assert "照片.zip" in parsed.problems[0].message


def test_mail_without_attachment_says_so() -> None:
    """A draft pasted into the mail body is not a submission."""
    parsed = parse_message(_mail(), limits=LIMITS)
    assert [p.code for p in parsed.problems] == [Code.NO_ATTACHMENT]


def test_a_pdf_instead_of_a_word_draft_is_an_unsupported_format() -> None:
    """A PDF cannot be checked for its sign-off: the sender is asked for .docx."""
    parsed = parse_message(_mail(("稿件.pdf", b"%PDF-1.4\n%...")), limits=LIMITS)
    assert [p.code for p in parsed.problems] == [Code.UNSUPPORTED_FORMAT]
    assert "PDF" in parsed.problems[0].message


def test_a_draft_without_second_reviewer_is_reported_against_that_draft() -> None:
    """The problem carries the draft's path, so the pipeline rejects that draft and only it."""
    parsed = parse_message(
        _mail(
            (
                "稿件.zip",
                make_zip([("a.docx", _docx("危化企业专项检查", ["撰稿人：危化科 王强", "初审人：刘洋"]))]),
            )
        ),
        limits=LIMITS,
    )
    assert [(p.code, p.source) for p in parsed.problems] == [
        (Code.MISSING_SECOND_REVIEWER, "稿件.zip/a.docx")
    ]
    assert "《危化企业专项检查》" in parsed.problems[0].message


def test_an_out_of_office_reply_is_automatic_and_has_no_problems() -> None:
    """Automatic mail is recognised and never produces a rejection."""
    parsed = parse_message(
        _mail(subject="自动回复：危化科信息", extra_headers=[("Auto-Submitted", "auto-replied")]),
        limits=LIMITS,
    )
    assert parsed.auto_reply is True
    assert parsed.drafts == ()
    assert parsed.problems == ()


def test_a_zip_inside_a_zip_is_read() -> None:
    """360压缩 users sometimes zip the zip: one level of nesting is fine."""
    inner = make_zip([("汛期值班.docx", _docx("汛期值班工作部署")), ("现场.jpg", _photo(1))])
    outer = make_zip([("内层.zip", inner)])
    parsed = parse_message(_mail(("外层.zip", outer)), limits=LIMITS)
    assert [(d.source, d.images) for d in parsed.drafts] == [("外层.zip/内层.zip/汛期值班.docx", 1)]


def test_a_forwarded_submission_carries_the_original_draft() -> None:
    """A publicist forwards a colleague's mail (message/rfc822): the original's zip is read."""
    original = _mail(("稿件.zip", make_zip([("汛期值班.docx", _docx("汛期值班工作部署"))])))
    wrapper = EmailMessage()
    wrapper["From"] = "王强 <wangqiang.wh@163.com>"
    wrapper["To"] = "pjyjjbgs@163.com"
    wrapper["Subject"] = "Fw: 危化科信息"
    wrapper.set_content("转发同事的稿件。")
    wrapper.add_attachment(message_from_bytes(original, policy=policy.default))
    parsed = parse_message(wrapper.as_bytes(), limits=LIMITS)
    assert [d.title for d in parsed.drafts] == ["汛期值班工作部署"]


def test_a_docx_that_is_not_a_document_is_unreadable() -> None:
    """A file named .docx holding something else gets a precise answer, not a crash."""
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not word")
    parsed = parse_message(_mail(("稿件.docx", buf.getvalue())), limits=LIMITS)
    assert [p.code for p in parsed.problems] == [Code.UNREADABLE_DRAFT]


@pytest.mark.skipif(not (CORPUS / "eml").is_dir(), reason="shared corpus not present")
def test_every_real_world_email_parses_without_an_exception() -> None:
    """The acceptance corpus: strangers' mail in every charset and shape reads to a value."""
    outcomes = {"drafts": 0, "problems": 0, "nothing": 0}
    files = sorted((CORPUS / "eml").glob("*.eml")) + sorted((CORPUS / "hostile").glob("*.eml"))
    for path in files:
        parsed = parse_message(path.read_bytes(), limits=LIMITS)
        parsed.to_json()
        key = "drafts" if parsed.drafts else "problems" if parsed.problems else "nothing"
        outcomes[key] += 1
    assert sum(outcomes.values()) == len(files) >= 30
    # Real submissions are rare in a spam corpus, but one Outlook .doc attachment is among them.
    assert outcomes["problems"] > 0
