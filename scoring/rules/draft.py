"""Rule `draft`: points for each accepted draft a unit sends (三(一)2: 每报送一篇文稿计0.3分).

Drafts are taken in the order received; with a monthly cap, the draft that reaches it scores
the rest up to the cap and later drafts score 0 (listed, so the unit sees why). Annual articles
are scored by the `article` rule instead, column items by the `column` rule. Drafts handed in as
tallies (a month scored only for its sum) score the same points, as one line per unit; in a month
scored for its sums only (MonthContext.itemized off) the drafts' points come added up per unit
and author, one line each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from scoring.context import Credit, MonthContext, article_of, credits
from scoring.profile import Article, RuleSet
from scoring.records import DraftTally, SubmissionRecord
from scoring.results import Line
from scoring.split import author_shares, fmt, home_of, split_evenly


class DraftRule:
    name = "draft"
    description = "每报送一篇被接收的稿件计分，可设每月上限；多人合写按人数平均"

    def score(self, ctx: MonthContext) -> Iterator[Credit]:
        for unit in ctx.ledger.units:
            rules = ctx.rules(unit.name)
            per_draft, cap = rules.draft.points, rules.draft.cap
            if per_draft == 0:
                continue
            if ctx.itemized:
                yield from self._itemized(ctx, unit.name, rules, per_draft, cap)
            else:
                yield from self._summed(ctx, unit.name, rules, per_draft, cap)
            tallied = ctx.ledger.tallied(ctx.month, unit.name)
            if tallied:
                if cap is not None:
                    # A cap takes drafts in the order received, which a count does not keep.
                    raise ValueError(f"{unit.name} {ctx.month.label}: tallied drafts cannot be capped")
                yield from self._tallied(ctx, unit.name, per_draft, rules.split_authors, tallied)

    def _drafts(
        self, ctx: MonthContext, sender: str, rules: RuleSet, per_draft: Decimal, cap: Decimal | None
    ) -> Iterator[tuple[SubmissionRecord, Article | None, Decimal]]:
        """The month's drafts this rule scores, oldest first: each with the article it is too
        short for (scored as a plain draft), if any, and its points under the cap."""
        # Only a draft of an article's or a column's category can be scored by another rule.
        special = {a.category for a in rules.articles} | {c.name for c in rules.columns}
        used = Decimal(0)
        for sub in ctx.ledger.accepted(ctx.month, sender):
            short = None
            if sub.category in special:
                if article_of(sub, rules) is not None or rules.column(sub.category) is not None:
                    continue
                short = rules.article(sub.category)
            amount = per_draft if cap is None else max(Decimal(0), min(per_draft, cap - used))
            used += amount
            yield sub, short, amount

    def _itemized(
        self, ctx: MonthContext, sender: str, rules: RuleSet, per_draft: Decimal, cap: Decimal | None
    ) -> Iterator[Credit]:
        opening = f"报送计{fmt(per_draft)}分"
        for sub, short, amount in self._drafts(ctx, sender, rules, per_draft, cap):
            head = f"《{sub.title}》{opening}"
            if short is not None:
                head += f"（{short.label}不足{short.min_chars}字，按常规信息计分）"
            if amount == 0:
                note = f"{head}，但本月报送分已达上限{fmt(cap or Decimal(0))}分，不再计分"
                yield Credit(sender, Line(self.name, amount, sub.id, None, None, note))
                continue
            if amount < per_draft:
                head += f"，本月报送分达到上限{fmt(cap or Decimal(0))}分，实计{fmt(amount)}分"
            shares = author_shares(
                sub, amount, sender=sender, units=ctx.ledger.unit_names, split=rules.split_authors
            )
            yield from credits(shares, rule=self.name, head=head, sender=sender, submission_id=sub.id)

    def _summed(
        self, ctx: MonthContext, sender: str, rules: RuleSet, per_draft: Decimal, cap: Decimal | None
    ) -> Iterator[Credit]:
        """What `_itemized` gives, added up per unit and author: one line each.

        The shares are those of split.author_shares, worked out here without their notes (a
        province's year is 100,000 drafts; the notes cost ~10% of `scores --year`): each author's
        part counted first, then multiplied.
        """
        units, split = ctx.ledger.unit_names, rules.split_authors
        counts: dict[tuple[str, str | None, Decimal], int] = {}
        for sub, _, amount in self._drafts(ctx, sender, rules, per_draft, cap):
            authors = sub.authors
            if amount == 0 or not authors or not split:
                # Over the cap: the sender's, not the authors' (as `_itemized`); no authors, or
                # not split: the sender's, credited to the first author.
                person = authors[0].name if authors and amount != 0 else None
                key = (sender, person, amount)
                counts[key] = counts.get(key, 0) + 1
                continue
            for author, part in zip(authors, split_evenly(amount, len(authors)), strict=True):
                key = (home_of(author, sender=sender, units=units), author.name, part)
                counts[key] = counts.get(key, 0) + 1
        totals: dict[tuple[str, str | None], tuple[Decimal, int]] = {}
        for (home, person, part), count in counts.items():
            total, drafts = totals.get((home, person), (Decimal(0), 0))
            totals[(home, person)] = (total + part * count, drafts + count)
        for (home, person), (points, drafts) in totals.items():
            origin = "" if home == sender else f"（{sender}报送）"
            who = f"，{person}" if person is not None else ""
            note = f"报送稿件{drafts}篇{origin}（合并计算，不逐篇列出）{who}合计{fmt(points)}分"
            yield Credit(home, Line(self.name, points, None, None, person, note))

    def _tallied(
        self, ctx: MonthContext, sender: str, per_draft: Decimal, split: bool, tallies: list[DraftTally]
    ) -> Iterator[Credit]:
        """What author_shares gives each draft of the tallies, added up per unit: one line each."""
        # Drafts of the same authors' units share out alike: counted first, shared out once each.
        teams: dict[tuple[str | None, ...], int] = {}
        for t in tallies:
            teams[t.authors] = teams.get(t.authors, 0) + t.count
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for authors, count in teams.items():
            if not authors or not split:
                totals[sender] += per_draft * count
                continue
            for author, part in zip(authors, split_evenly(per_draft, len(authors)), strict=True):
                home = author if author is not None and author in ctx.ledger.unit_names else sender
                totals[home] += part * count
        drafts = sum(teams.values())
        for home, points in totals.items():
            origin = "" if home == sender else f"（{sender}报送）"
            note = (
                f"{sender}报送{drafts}篇稿件（汇总计算）每篇计{fmt(per_draft)}分{origin}，合计{fmt(points)}分"
            )
            yield Credit(home, Line(self.name, points, None, None, None, note))
