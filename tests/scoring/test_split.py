"""Co-authored drafts: points split evenly among the 撰稿人, to the ten-thousandth, never lost or made up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.records import AuthorRecord, SubmissionRecord
from scoring.split import Share, author_shares, fmt, split_evenly
from tests.scoring.builders import D, at


@pytest.mark.parametrize(
    ("amount", "n", "parts"),
    [
        pytest.param("0.3", 3, ("0.1", "0.1", "0.1"), id="three authors share 0.3 exactly"),
        pytest.param(
            "1", 3, ("0.3334", "0.3333", "0.3333"), id="the first author takes the odd ten-thousandth"
        ),
        pytest.param(
            "0.3", 7, ("0.0429", "0.0429", "0.0429", "0.0429", "0.0428", "0.0428", "0.0428"), id="seven"
        ),
        pytest.param("-1", 3, ("-0.3334", "-0.3333", "-0.3333"), id="a deduction splits like a gain"),
        pytest.param("0.0001", 3, ("0.0001", "0", "0"), id="less than one quantum each"),
        pytest.param("5", 1, ("5",), id="a single author keeps everything"),
    ],
)
def test_even_split_examples(amount: str, n: int, parts: tuple[str, ...]) -> None:
    """Worked splits a unit head can check by hand."""
    assert split_evenly(D(amount), n) == tuple(D(p) for p in parts)


def test_nobody_to_split_among_is_an_error() -> None:
    """Zero authors is the caller's case to handle (the draft scores to its unit), never a division."""
    with pytest.raises(ValueError, match="0 authors"):
        split_evenly(D(1), 0)


amounts = st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False)


@given(amount=amounts, n=st.integers(min_value=1, max_value=40))
def test_splitting_never_creates_or_loses_points(amount: Decimal, n: int) -> None:
    """Parts add up exactly, differ by at most 0.0001, and the larger ones come first."""
    parts = split_evenly(amount, n)
    assert len(parts) == n
    assert sum(parts, Decimal(0)) == amount
    assert max(parts) - min(parts) <= Decimal("0.0001")
    assert all(p == p.quantize(Decimal("0.0001")) for p in parts)
    magnitudes = [abs(p) for p in parts]
    assert magnitudes == sorted(magnitudes, reverse=True)


@given(amount=st.decimals(min_value=0, max_value=10, places=8, allow_nan=False), n=st.integers(1, 9))
def test_amounts_finer_than_a_quantum_still_add_up(amount: Decimal, n: int) -> None:
    """Profiles allow 4 places only, but a finer amount is still never lost: the rest goes to the first."""
    assert sum(split_evenly(amount, n), Decimal(0)) == amount


def _sub(*authors: tuple[str, str | None]) -> SubmissionRecord:
    return SubmissionRecord(
        1,
        "危化科",
        "联合检查",
        at("2025-06-03"),
        "accepted",
        authors=tuple(AuthorRecord(n, u) for n, u in authors),
    )


UNITS = {"危化科", "综合行政执法队"}


def test_co_authors_in_two_units_roll_up_to_their_own_units() -> None:
    """危化科 sends a draft written with 执法队's 赵敏: her third goes to 执法队."""
    shares = author_shares(
        _sub(("王强", "危化科"), ("李明", "危化科"), ("赵敏", "综合行政执法队")),
        D("0.3"),
        sender="危化科",
        units=UNITS,
        split=True,
    )
    assert [(s.unit, s.person, s.points) for s in shares] == [
        ("危化科", "王强", D("0.1")),
        ("危化科", "李明", D("0.1")),
        ("综合行政执法队", "赵敏", D("0.1")),
    ]
    assert shares[2].note == "3人合写，赵敏得0.1分"


def test_a_draft_without_authors_scores_wholly_to_the_sending_unit() -> None:
    """No 撰稿人 could be read: the unit gets the points, nobody personally, and the line says why."""
    assert author_shares(_sub(), D("0.3"), sender="危化科", units=UNITS, split=True) == (
        Share("危化科", None, D("0.3"), "未署撰稿人，全部计入报送单位"),
    )


def test_an_author_of_an_unknown_unit_scores_for_the_sending_unit() -> None:
    """赵敏 wrote “市消防支队”, which is not a configured unit: her share stays with the sender, named."""
    shares = author_shares(
        _sub(("王强", "危化科"), ("赵敏", "市消防支队")), D(1), sender="危化科", units=UNITS, split=True
    )
    assert [(s.unit, s.person, s.points) for s in shares] == [
        ("危化科", "王强", D("0.5")),
        ("危化科", "赵敏", D("0.5")),
    ]
    assert "赵敏的单位未能识别，计入报送单位" in shares[1].note


def test_without_splitting_the_first_author_is_credited_in_the_sending_unit() -> None:
    """A profile with split_authors = false: the whole amount, once, to the sender and its first author."""
    shares = author_shares(
        _sub(("赵敏", "综合行政执法队"), ("王强", "危化科")),
        D("0.3"),
        sender="危化科",
        units=UNITS,
        split=False,
    )
    assert [(s.unit, s.person, s.points) for s in shares] == [("危化科", "赵敏", D("0.3"))]


@pytest.mark.parametrize(
    ("points", "text"), [("0.3000", "0.3"), ("10", "10"), ("1E+1", "10"), ("-0.0", "0"), ("0.3334", "0.3334")]
)
def test_points_in_notes_are_written_plainly(points: str, text: str) -> None:
    """Notes show exact points without exponents or trailing zeros."""
    assert fmt(D(points)) == text
