"""Rule `entry:<kind>`: items the office enters by hand (栏目素材, 领导批示, 约稿, 迟报, 错别字 …).

An entry counts in the month holding its `period` day. One naming a submission is split among
the draft's authors like the draft's own points (or goes wholly to `person` if the office names
one); one naming only a unit is a unit line. Bonuses always add and deductions always subtract,
whatever sign was typed; `period` items keep their sign; an item's `max` bounds one entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from scoring.context import Credit, MonthContext, credits
from scoring.periods import day_of
from scoring.profile import Item
from scoring.records import OfficeEntry, SubmissionRecord
from scoring.results import Line
from scoring.split import author_shares, fmt


class EntryRule:
    name = "entry"
    description = "办公室登记的计分项目：固定分项、加分、扣分"

    def score(self, ctx: MonthContext) -> Iterator[Credit]:
        first, end = day_of(ctx.month.start), day_of(ctx.month.end)
        for entry in sorted(ctx.ledger.entries, key=lambda e: (e.period, e.id)):
            if not first <= entry.period < end:
                continue
            sub = ctx.ledger.submission(entry.submission_id) if entry.submission_id is not None else None
            if entry.submission_id is not None and sub is None:
                continue
            record = ctx.ledger.unit(entry.unit)
            unit = ctx.sender(sub) if sub is not None else record.name if record is not None else None
            if unit is None:
                continue
            yield from self._credits(ctx, entry, sub, unit)

    def _credits(
        self, ctx: MonthContext, entry: OfficeEntry, sub: SubmissionRecord | None, unit: str
    ) -> Iterator[Credit]:
        rule = f"{self.name}:{entry.kind}"
        sub_id = sub.id if sub is not None else None
        rules = ctx.rules(unit)
        item = rules.item(entry.kind)
        if item is None:
            note = f"计分项目“{entry.kind}”不在本期计分规则中，不计分"
            yield Credit(unit, Line(rule, Decimal(0), sub_id, None, None, note))
            return
        points, remark = _points(item, entry)
        verb = f"加{fmt(points)}分" if points > 0 else f"扣{fmt(-points)}分" if points < 0 else "计0分"
        head = item.label + (f"：《{sub.title}》" if sub is not None else "") + verb + remark
        if entry.note:
            head += f"（{entry.note}）"
        if sub is not None and entry.person is None and points != 0:
            shares = author_shares(
                sub, points, sender=unit, units=ctx.ledger.unit_names, split=rules.split_authors
            )
            yield from credits(shares, rule=rule, head=head, sender=unit, submission_id=sub_id)
            return
        home = unit
        if sub is not None and entry.person is not None:
            home = next(
                (a.unit for a in sub.authors if a.name == entry.person and a.unit in ctx.ledger.unit_names),
                unit,
            )
        yield Credit(home, Line(rule, points, sub_id, None, entry.person, head))


def _points(item: Item, entry: OfficeEntry) -> tuple[Decimal, str]:
    given = entry.points if entry.points is not None else item.points
    if given is None:
        return Decimal(0), "（未填写分值）"
    magnitude, remark = abs(given), ""
    if item.max is not None and magnitude > item.max:
        magnitude, remark = item.max, f"（超过上限，按{fmt(item.max)}分计）"
    if item.type == "bonus":
        return magnitude, remark
    if item.type == "deduction":
        return -magnitude, remark
    return magnitude.copy_sign(given), remark
