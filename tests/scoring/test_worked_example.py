"""docs/scoring.md's worked example — 危化科's June 2025 under the Panjin rules — and the profiles it shows."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from scoring.results import MonthScores, UnitScore
from tests.scoring.builders import D, adopt, draft, entry, history, month

DOC = Path(__file__).resolve().parents[2] / "docs" / "scoring.md"
W, L, Z = ("王强", "危化科"), ("李明", "危化科"), ("赵敏", "综合行政执法队")


def june() -> MonthScores:
    """The ledger described in the document, scored."""
    subs = [
        draft(101, "危化科", "2025-06-03", W, title="危化科开展汛期危险化学品企业专项检查"),
        draft(102, "危化科", "2025-06-05", W, L, Z, title="危化科联合执法队夜查油气储存企业"),
        draft(103, "危化科", "2025-06-12", L, title="我市完成首批危化品企业安全风险评估"),
        draft(104, "危化科", "2025-06-13", W, title="危化科组织重点企业应急演练观摩"),
        draft(
            105,
            "危化科",
            "2025-06-18",
            W,
            title="关于我市危化品重大危险源管控情况的调研",
            category="research",
            chars=2650,
        ),
        draft(106, "危化科", "2025-06-19", W, title="危化科召开安全生产月推进会", status="rejected"),
    ]
    adoptions = [adopt(1, 103, "市政府政务信息", "2025-06-20"), adopt(2, 103, "省级", "2025-06-27")]
    entries = [
        entry(1, "solicitation", "2025-06-30", submission_id=104, points="2", note="市政府约稿《汛期安全》")
    ]
    past = [history("危化科", "2025-05", 4, "2.2", 市政府政务信息=1)]
    return month("2025-06", subs=subs, adoptions=adoptions, entries=entries, past=past)


def rows(unit: UnitScore) -> list[str]:
    """The document's table rows for a unit."""
    return [
        f"| {i} | `{x.rule}` | {x.submission_id or '—'} | {x.adoption_id or '—'} | {x.person or '—'} "
        f"| {x.points.normalize():f} | {x.note} |"
        for i, x in enumerate(unit.lines, start=1)
    ]


def test_the_worked_example_scores_as_the_document_says() -> None:
    """8.1 in June, 10.3 with May's imported 2.2; 李明 4.4, 王强 3.7, 赵敏 0.1 in 执法队."""
    scores = june()
    unit = scores.unit("危化科")
    assert (unit.submitted, unit.score, unit.cumulative) == (5, D("8.1"), D("10.3"))
    assert [(x.rule, x.points, x.person) for x in unit.lines] == [
        ("draft", D("0.3"), "王强"),
        ("draft", D("0.1"), "王强"),
        ("draft", D("0.1"), "李明"),
        ("draft", D("0.3"), "李明"),
        ("draft", D("0.3"), "王强"),
        ("article:research", D(1), "王强"),
        ("adoption:市政府政务信息", D(1), "李明"),
        ("adoption:省级", D(3), "李明"),
        ("entry:solicitation", D(2), "王强"),
        ("quota:week", D(0), None),
    ]
    assert [(p.name, p.unit, p.score) for p in scores.people] == [
        ("李明", "危化科", D("4.4")),
        ("王强", "危化科", D("3.7")),
        ("赵敏", "综合行政执法队", D("0.1")),
    ]
    assert scores.warnings == ()


def test_the_document_shows_every_line_of_the_worked_example() -> None:
    """Each row of the table in docs/scoring.md is exactly what the engine says, note included."""
    text = DOC.read_text(encoding="utf-8")
    for row in rows(june().unit("危化科")):
        assert row in text


def test_the_document_shows_both_packaged_profiles_in_full() -> None:
    """The TOML in docs/scoring.md is the TOML that ships."""
    text = DOC.read_text(encoding="utf-8")
    for name in ("panjin-2025", "example-province"):
        profile = (files("scoring") / "profiles" / f"{name}.toml").read_text(encoding="utf-8")
        assert f"```toml\n{profile}```" in text
