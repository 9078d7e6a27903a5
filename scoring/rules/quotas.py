"""Rule `quota:week` / `quota:month`: shortfalls (and, if the profile pays for them, extras).

Every shortfall is listed, also when the profile deducts 0 (Panjin's 批评扣分 names no figure).
The weeks checked in a month are those whose Thursday falls in it (`scoring.quota`); with `now`
given, a week or month not yet over is not checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from scoring.context import Credit, MonthContext
from scoring.periods import Period, day_of
from scoring.profile import Quota
from scoring.quota import Assessment, assess, weeks_in_month
from scoring.results import Line
from scoring.split import fmt


class QuotaRule:
    name = "quota"
    description = "每周、每月报送数量要求：少报扣分（可为0分，仍逐项列出），多报可加分"

    def score(self, ctx: MonthContext) -> Iterator[Credit]:
        weeks = [(w, len(ctx.calendar.workdays(w))) for w in weeks_in_month(ctx.month) if ctx.over(w)]
        month_workdays = len(ctx.calendar.workdays(ctx.month))
        for unit in ctx.ledger.units:
            rules = ctx.rules(unit.name)
            for week, workdays in weeks:
                sent = ctx.ledger.count(week, unit.name)
                outcome = assess(rules.week, submitted=sent, workdays=workdays)
                for line in _lines("quota:week", _week_text(week), "每周", outcome, rules.week):
                    yield Credit(unit.name, line)
            if ctx.over(ctx.month):
                sent = ctx.ledger.count(ctx.month, unit.name)
                outcome = assess(rules.month, submitted=sent, workdays=month_workdays)
                for line in _lines("quota:month", _month_text(ctx.month), "每月", outcome, rules.month):
                    yield Credit(unit.name, line)


def _lines(rule: str, when: str, per: str, a: Assessment, quota: Quota) -> Iterator[Line]:
    if a.short:
        if a.deduction < 0:
            outcome = f"扣{fmt(-a.deduction)}分"
            if a.deduction_capped:
                outcome += f"（扣分上限{fmt(quota.max_deduction or a.deduction)}分）"
        elif a.deduction == 0:
            outcome = "通报批评（计分规则未定扣分分值，不扣分）"
        else:
            outcome = f"计{fmt(a.deduction)}分"
        note = f"{when}报送{a.submitted}篇，{per}应报{a.required}篇，少报{a.short}篇，{outcome}"
        yield Line(rule, a.deduction, None, None, None, note)
    if a.extra and a.bonus:
        capped = f"（加分上限{fmt(quota.max_bonus or a.bonus)}分）" if a.bonus_capped else ""
        note = (
            f"{when}报送{a.submitted}篇，超出{per}应报{a.required}篇{a.extra}篇，加{fmt(a.bonus)}分{capped}"
        )
        yield Line(rule, a.bonus, None, None, None, note)


def _week_text(week: Period) -> str:
    first, last = day_of(week.start), day_of(week.end)
    last = last.fromordinal(last.toordinal() - 1)
    return f"{week.label}（{first.month}月{first.day}日至{last.month}月{last.day}日）"


def _month_text(month: Period) -> str:
    first = day_of(month.start)
    return f"{first.year}年{first.month}月"
