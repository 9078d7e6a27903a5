"""Rule `article:<category>`: the yearly 调研 and 经验 articles (三(二)3), and the year-end deduction."""

from __future__ import annotations

from decimal import Decimal

from scoring.results import MonthScores
from tests.scoring.builders import D, adopt, at, draft, month

W = ("王强", "危化科")


def _article_lines(scores: MonthScores, unit: str = "危化科") -> list[tuple[str, Decimal, str | None]]:
    return [
        (x.rule, x.points, x.person)
        for x in scores.unit(unit).lines
        if x.rule.startswith(("article", "draft", "adoption"))
    ]


def test_a_research_article_scores_one_point_instead_of_point_three() -> None:
    """【调研】 with 2650 characters: 1 point under `article:research`, no `draft` line."""
    subs = [
        draft(1, "危化科", "2025-06-18", W, title="危化品重大危险源调研", category="research", chars=2650)
    ]
    scores = month("2025-06", subs=subs)
    assert _article_lines(scores) == [("article:research", D(1), "王强")]
    (line,) = [x for x in scores.unit("危化科").lines if x.rule == "article:research"]
    assert line.note == "《危化品重大危险源调研》调研类信息计1分，撰稿人王强"
    assert scores.unit("危化科").submitted == 1  # it counts for the quota like any draft


def test_a_short_article_scores_as_a_regular_draft_and_says_why() -> None:
    """1800 characters are below the 2000 the regulation asks: 0.3 like any draft, not the article point."""
    subs = [draft(1, "危化科", "2025-06-18", W, category="experience", chars=1800)]
    scores = month("2025-06", subs=subs)
    assert _article_lines(scores) == [("draft", D("0.3"), "王强")]
    assert "（经验类信息不足2000字，按常规信息计分）" in scores.unit("危化科").lines[0].note


def test_adopted_by_the_municipal_government_an_article_is_worth_two() -> None:
    """被市政府采用计2分: the adoption adds 1 to the article's 1; a provincial adoption still adds 3."""
    subs = [draft(1, "危化科", "2025-06-18", W, title="汛期经验", category="experience", chars=3000)]
    adoptions = [adopt(1, 1, "市政府政务信息", "2025-06-25"), adopt(2, 1, "省级", "2025-06-26")]
    scores = month("2025-06", subs=subs, adoptions=adoptions)
    assert _article_lines(scores) == [
        ("article:experience", D(1), "王强"),
        ("adoption:市政府政务信息", D(1), "王强"),
        ("adoption:省级", D(3), "王强"),
    ]
    note = scores.unit("危化科").lines[1].note
    assert (
        note == "《汛期经验》（经验类信息）被市政府《政务信息》采用计2分，报送时已计1分，补计1分，撰稿人王强"
    )


def test_december_deducts_one_point_per_missing_article() -> None:
    """危化科 sent its research article in June but no experience article all year: −1 in December."""
    subs = [draft(1, "危化科", "2025-06-18", W, category="research", chars=2650)]
    december = month("2025-12", subs=subs)
    lines = [x for x in december.unit("危化科").lines if x.rule.startswith("article")]
    assert [(x.rule, x.points, x.person) for x in lines] == [("article:experience:missing", D(-1), None)]
    assert lines[0].note == "2025年报送经验类信息0篇，全年应报1篇，少1篇，扣1分"
    both = [x.rule for x in december.unit("宣教科").lines if x.rule.startswith("article")]
    assert both == ["article:research:missing", "article:experience:missing"]
    assert december.unit("宣教科").score == -2


def test_articles_too_short_do_not_fulfil_the_year() -> None:
    """A 1500-character 【调研】 is a regular draft, so the research article is still missing."""
    subs = [draft(1, "危化科", "2025-03-18", W, category="research", chars=1500)]
    rules = [x.rule for x in month("2025-12", subs=subs).unit("危化科").lines if x.rule.endswith(":missing")]
    assert rules == ["article:research:missing", "article:experience:missing"]


def test_the_year_end_check_waits_for_the_year_to_end() -> None:
    """Scored on 15 December (a preview), December shows no missing-article line yet."""
    scores = month("2025-12", now=at("2025-12-15"))
    assert not [x for x in scores.unit("危化科").lines if x.rule.endswith(":missing")]
    assert [
        x
        for x in month("2025-12", now=at("2026-01-01", 0)).unit("危化科").lines
        if x.rule.endswith(":missing")
    ]


def test_other_months_never_deduct_articles() -> None:
    """The deduction is a year-end matter: November has none."""
    assert not [x for x in month("2025-11").unit("危化科").lines if x.rule.startswith("article")]
