"""Rule `draft`: points for each accepted draft a unit sends (三(一)2: 每报送一篇文稿计0.3分).

Drafts are taken in the order received; with a monthly cap, the draft that reaches it scores
the rest up to the cap and later drafts score 0 (listed, so the unit sees why). Annual articles
are scored by the `article` rule instead, column items by the `column` rule. Drafts handed in as
tallies (a month scored only for its sum) score the same points, as one line per unit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from scoring.context import Credit, MonthContext, article_of, credits
from scoring.records import DraftTally
from scoring.results import Line
from scoring.split import author_shares, fmt, split_evenly


class DraftRule:
    name = "draft"
    description = "每报送一篇被接收的稿件计分，可设每月上限；多人合写按人数平均"

    def score(self, ctx: MonthContext) -> Iterator[Credit]:
        for unit in ctx.ledger.units:
            rules = ctx.rules(unit.name)
            per_draft, cap = rules.draft.points, rules.draft.cap
            if per_draft == 0:
                continue
            # Only a draft of an article's or a column's category can be scored by another rule.
            special = {a.category for a in rules.articles} | {c.name for c in rules.columns}
            opening = f"报送计{fmt(per_draft)}分"
            used = Decimal(0)
            for sub in ctx.ledger.accepted(ctx.month, unit.name):
                short = None
                if sub.category in special:
                    if article_of(sub, rules) is not None or rules.column(sub.category) is not None:
                        continue
                    short = rules.article(sub.category)
                head = f"《{sub.title}》{opening}"
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
            tallied = ctx.ledger.tallied(ctx.month, unit.name)
            if tallied:
                if cap is not None:
                    # A cap takes drafts in the order received, which a count does not keep.
                    raise ValueError(f"{unit.name} {ctx.month.label}: tallied drafts cannot be capped")
                yield from self._tallied(ctx, unit.name, per_draft, rules.split_authors, tallied)

    def _tallied(
        self, ctx: MonthContext, sender: str, per_draft: Decimal, split: bool, tallies: list[DraftTally]
    ) -> Iterator[Credit]:
        """What author_shares gives each draft of the tallies, added up per unit: one line each."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        drafts = 0
        for t in tallies:
            drafts += t.count
            if not t.authors or not split:
                totals[sender] += per_draft * t.count
                continue
            for author, part in zip(t.authors, split_evenly(per_draft, len(t.authors)), strict=True):
                home = author if author is not None and author in ctx.ledger.unit_names else sender
                totals[home] += part * t.count
        for home, points in totals.items():
            origin = "" if home == sender else f"（{sender}报送）"
            note = (
                f"{sender}报送{drafts}篇稿件（汇总计算）每篇计{fmt(per_draft)}分{origin}，合计{fmt(points)}分"
            )
            yield Credit(home, Line(self.name, points, None, None, None, note))
