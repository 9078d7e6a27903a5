"""Rule `solicitation`: commissioned topics (约稿, 三(二)1), graded 0–3 by the office.

Everything about a solicitation counts in the month of its deadline. A response (a draft linked to
it) received by the end of the deadline day scores the office's grade (bounded by the profile's
`solicitation` item `max`, 3 in Panjin) less its deductions, split among the draft's authors; an
ungraded one is listed at 0 (待评分). A late response scores 0 (未及时报送的计0分), and so does each
target unit without any response once the deadline is over: both listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal

from scoring.context import Credit, MonthContext, credits
from scoring.periods import SHANGHAI, day_of
from scoring.records import ResponseRecord, SolicitationRecord
from scoring.results import Line
from scoring.split import author_shares, fmt

RULE = "solicitation"


def due(solicitation: SolicitationRecord) -> datetime:
    """The end of the deadline day, Asia/Shanghai: a response received before it is on time."""
    return datetime.combine(solicitation.deadline + timedelta(days=1), time.min, tzinfo=SHANGHAI)


class SolicitationRule:
    name = RULE
    description = "约稿按完成质量计0、1、2、3分，扣除差错后合计；逾期或未报送计0分"

    def score(self, ctx: MonthContext) -> Iterator[Credit]:
        first, end = day_of(ctx.month.start), day_of(ctx.month.end)
        for sol in sorted(ctx.ledger.solicitations, key=lambda x: (x.deadline, x.id)):
            if not first <= sol.deadline < end:
                continue
            answered: set[str] = set()
            for response in sorted(ctx.ledger.responses, key=lambda r: r.id):
                if response.solicitation_id == sol.id:
                    yield from self._response(ctx, sol, response, answered)
            if ctx.now is not None and ctx.now < due(sol):
                continue
            targets = sol.units or tuple(u.name for u in ctx.ledger.units)
            for unit in targets:
                if unit in ctx.ledger.unit_names and unit not in answered:
                    note = f"约稿《{sol.topic}》（截止{_day(sol)}）未报送，计0分"
                    yield Credit(unit, Line(RULE, Decimal(0), None, None, None, note))

    def _response(
        self, ctx: MonthContext, sol: SolicitationRecord, response: ResponseRecord, answered: set[str]
    ) -> Iterator[Credit]:
        sub = ctx.ledger.submission(response.submission_id)
        if sub is None or sub.status != "accepted":
            return
        unit = ctx.sender(sub)
        if unit is None:
            return
        answered.add(unit)
        head = f"约稿《{sol.topic}》：《{sub.title}》"
        if sub.received_at >= due(sol):
            note = f"{head}逾期报送（截止{_day(sol)}），计0分"
            yield Credit(unit, Line(RULE, Decimal(0), sub.id, None, None, note))
            return
        if response.grade is None:
            yield Credit(unit, Line(RULE, Decimal(0), sub.id, None, None, f"{head}待办公室评分，暂计0分"))
            return
        item = ctx.rules(unit).item("solicitation")
        top = item.max if item is not None and item.max is not None else Decimal(3)
        grade = min(Decimal(response.grade), top)
        points = grade - abs(response.deduction)
        head += f"评{fmt(grade)}分"
        if response.deduction:
            head += f"，扣{fmt(abs(response.deduction))}分"
        if response.note:
            head += f"（{response.note}）"
        head += f"，计{fmt(points)}分"
        if points == 0:
            yield Credit(unit, Line(RULE, points, sub.id, None, None, head))
            return
        rules = ctx.rules(unit)
        shares = author_shares(
            sub, points, sender=unit, units=ctx.ledger.unit_names, split=rules.split_authors
        )
        yield from credits(shares, rule=RULE, head=head, sender=unit, submission_id=sub.id)


def _day(sol: SolicitationRecord) -> str:
    return f"{sol.deadline.month}月{sol.deadline.day}日"
