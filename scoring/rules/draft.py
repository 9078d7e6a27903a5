"""Rule `draft`: points for each accepted draft a unit sends (三(一)2: 每报送一篇文稿计0.3分).

Drafts are taken in the order received; with a monthly cap, the draft that reaches it scores
the rest up to the cap and later drafts score 0 (listed, so the unit sees why). Annual articles
are scored by the `article` rule instead, column items by the `column` rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from scoring.context import Credit, MonthContext, article_of, credits
from scoring.results import Line
from scoring.split import author_shares, fmt


class DraftRule:
    name = "draft"
    description = "每报送一篇被接收的稿件计分，可设每月上限；多人合写按人数平均"

    def score(self, ctx: MonthContext) -> Iterator[Credit]:
        for unit in ctx.ledger.units:
            rules = ctx.rules(unit.name)
            per_draft, cap = rules.draft.points, rules.draft.cap
            if per_draft == 0:
                continue
            used = Decimal(0)
            for sub in ctx.ledger.accepted(ctx.month, unit.name):
                if article_of(sub, rules) is not None or rules.column(sub.category) is not None:
                    continue
                head = f"《{sub.title}》报送计{fmt(per_draft)}分"
                short = rules.article(sub.category)
                if short is not None:
                    head += f"（{short.label}不足{short.min_chars}字，按常规信息计分）"
                amount = per_draft if cap is None else max(Decimal(0), min(per_draft, cap - used))
                used += amount
                if amount == 0:
                    note = f"{head}，但本月报送分已达上限{fmt(cap or Decimal(0))}分，不再计分"
                    yield Credit(unit.name, Line(self.name, amount, sub.id, None, None, note))
                    continue
                if amount < per_draft:
                    head += f"，本月报送分达到上限{fmt(cap or Decimal(0))}分，实计{fmt(amount)}分"
                shares = author_shares(
                    sub, amount, sender=unit.name, units=ctx.ledger.unit_names, split=rules.split_authors
                )
                yield from credits(shares, rule=self.name, head=head, sender=unit.name, submission_id=sub.id)
