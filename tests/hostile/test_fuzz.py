"""Fuzzing the full parse with hypothesis: mutated and generated mail always parses to a safe value.

Bounded for `make test` (about half a minute on two cores). The mutators are those of the long
coverage-guided campaign, `python -m fuzz.long` (docs/fuzzing.md): byte flips, truncation,
splicing, header duplication, boundary damage, and archive/document member corruption.
"""

from __future__ import annotations

import base64
import random
import zlib
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.fuzz_parse import built_seeds, corpus_seeds, corrupt_archive, mutate, parse_checked
from parsers.types import Code
from tests.hostile import builders as b

SMALL = 96 * 1024
SEEDS = [s for s in built_seeds() + corpus_seeds() if len(s) < SMALL]
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# What a hostile header or file name is made of: CJK, specials, controls, bidi marks, any character.
HOSTILE = st.text(
    st.one_of(
        st.sampled_from(
            "稿件王强危化科撰稿人初审复审：、（）<>\"'@,;:\\/.=?*%\r\n\t\x00\x1b\u202e\u2066\ufffd"
        ),
        st.characters(codec="utf-8"),
    ),
    max_size=80,
)
CHARSETS = st.sampled_from(
    ["utf-8", "gbk", "gb2312", "big5", "utf-7", "utf-16", "x-unknown", "zlib", "", "'"]
)


@settings(FAST, max_examples=500)
@given(seed=st.integers(0, len(SEEDS) - 1), rng=st.randoms(use_true_random=False))
def test_a_mutated_message_parses_to_a_safe_value(seed: int, rng: random.Random) -> None:
    """Real and generated submissions, damaged at the byte and MIME level, parse without raising."""
    parse_checked(mutate(SEEDS[seed], rng, SEEDS))


@settings(FAST, max_examples=250)
@given(rng=st.randoms(use_true_random=False), bare=st.booleans())
def test_a_submission_with_a_corrupted_archive_parses_to_a_safe_value(rng: random.Random, bare: bool) -> None:
    """A zip or .docx whose members, fields or XML are damaged: problems as values, never an exception."""
    data = corrupt_archive(b.draft() if bare else b.package(), rng)
    parse_checked(b.submission((f"{b.TITLE}.docx" if bare else "稿件.zip", data)))


@settings(FAST, max_examples=300)
@given(
    sender=HOSTILE,
    subject=HOSTILE,
    filename=HOSTILE,
    charset=CHARSETS,
    raw_name=st.binary(max_size=40),
    ids=st.binary(max_size=60),
)
def test_generated_headers_parse_to_a_safe_value(
    sender: str, subject: str, filename: str, charset: str, raw_name: bytes, ids: bytes
) -> None:
    """Any From, Subject, file name and Message-ID, as encoded-words or raw bytes, comes out one-line and clean."""
    word = f"=?{charset}?b?{base64.b64encode(sender.encode('utf-8', 'surrogatepass')).decode()}?="
    part = b.eml(
        b'Content-Type: application/zip; name="' + filename.encode("utf-8", "surrogatepass") + b'"',
        "Content-Transfer-Encoding: base64",
        b"Content-Disposition: attachment; filename=" + raw_name,
        body=b.b64(b.package()),
    )
    raw = b.mixed(
        part,
        before=[
            f"From: {word} <{sender}>".encode("utf-8", "surrogatepass"),
            f"Subject: {subject} {word}".encode("utf-8", "surrogatepass"),
            b"Message-ID: <" + ids + b">",
            b"References: " + ids,
            f"Reply-To: {sender}".encode("utf-8", "surrogatepass"),
        ],
    )
    parsed = parse_checked(raw)
    assert parsed.subject == " ".join(parsed.subject.split())


PARAGRAPH = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
SIGNOFF = st.lists(
    st.one_of(
        PARAGRAPH,
        st.builds(
            lambda k, v: f"{k}{v}",
            st.sampled_from(["撰稿人：", "初审人：", "复审人：", "撰稿：", "审核人:"]),
            PARAGRAPH,
        ),
    ),
    max_size=6,
)


@settings(FAST, max_examples=300)
@given(title=PARAGRAPH, body=st.lists(PARAGRAPH, max_size=6), signoff=SIGNOFF)
def test_any_document_text_reads_to_a_draft_or_a_problem(
    title: str, body: list[str], signoff: list[str]
) -> None:
    """Any text in a well-formed .docx (sign-off lines included) gives one draft or one unreadable problem."""
    paragraphs = [_xml_text(p) for p in (title, *body, *signoff)]
    xml = b.document_xml(paragraphs)
    docx = b.docx_package(
        b.RawMember("word/document.xml", zlib.compress(xml)[2:-4], 8, zlib.crc32(xml), len(xml))
    )
    parsed = parse_checked(b.submission((f"{b.TITLE}.docx", docx)))
    codes = {p.code for p in parsed.problems}
    assert len(parsed.drafts) == 1 or Code.UNREADABLE_DRAFT in codes
    for draft in parsed.drafts:
        assert "\n" not in draft.title
        assert draft.chars >= 0


def _xml_text(text: str) -> str:
    """Text as XML 1.0 allows it in an element (no C0 controls but tab, no U+FFFE/U+FFFF)."""
    kept = "".join(c for c in text if c in "\t" or (c >= " " and c not in "\ufffe\uffff"))
    return escape(kept)
