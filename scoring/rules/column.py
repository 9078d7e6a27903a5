"""Rule `column:<name>`: items filed under a column, and the items a column's cycle missed (三(二)2).

An accepted draft whose category is a column's name scores the column's points instead of the
per-draft points, split among its authors. A cycle period (`scoring.columns`) judged in the month,
over (with `now`) and on or after `ctx.columns_from`, with at least one workday, is short when no
responsible unit filed an item under the column in it: with `per_unit` each responsible unit is
judged on its own items; otherwise any responsible unit's item fulfils the period for all of them
and a missed item's `per_missing` is split evenly among them. One `column:<name>:missing` line per
column and unit per month lists the missed periods; every shortfall is listed, also at 0 points.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from scoring.columns import CYCLE_NAMES, cycle_periods, period_text, responsible
from scoring.context import Credit, MonthContext, credits
from scoring.periods import Period, day_of
from scoring.profile import Column
from scoring.results import Line
from scoring.split import author_shares, fmt, split_evenly


class ColumnRule:
    name = "column"
    description = "栏目稿件每条计分；栏目在固定周期内少报的，每少报一条扣分（多个负责单位共同负责的，任一单位报送即可，扣分平均分摊）"

    def score(self, ctx: MonthContext) -> Iterator[Credit]:
        for unit in ctx.ledger.units:
            rules = ctx.rules(unit.name)
            if not rules.columns:
                continue
            names = {c.name for c in rules.columns}
            for sub in ctx.ledger.accepted(ctx.month, unit.name):
                column = rules.column(sub.category) if sub.category in names else None
                if column is None:
                    continue
                shares = author_shares(
                    sub,
                    column.points,
                    sender=unit.name,
                    units=ctx.ledger.unit_names,
                    split=rules.split_authors,
                )
                head = f"《{sub.title}》报送{column.title}计{fmt(column.points)}分"
                rule = f"{self.name}:{column.name}"
                yield from credits(shares, rule=rule, head=head, sender=unit.name, submission_id=sub.id)
        if ctx.columns_from is None:
            return
        for column in ctx.profile.version_for(ctx.month).default.columns:
            yield from self._missing(ctx, column)

    def _missing(self, ctx: MonthContext, column: Column) -> Iterator[Credit]:
        names, _unknown = responsible(column, ctx.ledger.units)
        if not names or column.cycle == "on_demand":
            return
        missed: dict[str, list[Period]] = defaultdict(list)
        for period in cycle_periods(column.cycle, ctx.month, ctx.calendar):
            if not self._judged(ctx, period):
                continue
            filed = {s.unit for s in ctx.ledger.filed(period, column.name)}
            if column.per_unit:
                for name in names:
                    if name not in filed:
                        missed[name].append(period)
            elif not filed.intersection(names):
                for name in names:
                    missed[name].append(period)
        shared = not column.per_unit and len(names) > 1
        for name in names:
            periods = missed.get(name)
            if not periods:
                continue
            total = column.per_missing * len(periods)
            points = split_evenly(total, len(names))[names.index(name)] if shared else total
            yield Credit(
                name,
                Line(
                    f"{self.name}:{column.name}:missing",
                    points,
                    None,
                    None,
                    None,
                    _note(column, periods, names, total, points, shared),
                ),
            )

    @staticmethod
    def _judged(ctx: MonthContext, period: Period) -> bool:
        assert ctx.columns_from is not None
        return (
            ctx.over(period)
            and day_of(period.start) >= ctx.columns_from
            and bool(ctx.calendar.workdays(period))
        )


def _note(
    column: Column,
    periods: list[Period],
    names: tuple[str, ...],
    total: Decimal,
    points: Decimal,
    shared: bool,
) -> str:
    when = "、".join(period_text(column.cycle, p) for p in periods)
    note = f"{column.title}（{CYCLE_NAMES[column.cycle]}）{when}未报送，少报{len(periods)}条"
    if total == 0:
        return note + "，通报批评（计分规则未定扣分分值，不扣分）"
    if shared:
        return note + f"，共{_verb(total)}，由{'、'.join(names)}共同负责，平均分摊{_verb(points)}"
    return note + f"，{_verb(points)}"


def _verb(points: Decimal) -> str:
    return f"扣{fmt(-points)}分" if points < 0 else f"计{fmt(points)}分"
