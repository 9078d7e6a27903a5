"""Rule `article:<category>`: the annual research and experience articles (三(二)3).

An accepted draft of an article category (调研 / 经验, tagged in the subject) with at least
`min_chars` characters scores the article's points instead of the per-draft points. Its adoption
by a channel of `adopted_by` is valued by the `adoption` rule. In December's score (once the year
is over, when `now` is given) each unit's missing articles are deducted: `per_missing` per
article short of `required_per_year`, every shortfall listed even at 0 points.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time

from scoring.context import Credit, MonthContext, article_of, credits
from scoring.periods import SHANGHAI, Period, day_of, month
from scoring.results import Line
from scoring.split import author_shares, fmt


class ArticleRule:
    name = "article"
    description = "调研类、经验类信息每篇计分；年底每少一篇扣分"

    def score(self, ctx: MonthContext) -> Iterator[Credit]:
        for unit in ctx.ledger.units:
            rules = ctx.rules(unit.name)
            categories = {a.category for a in rules.articles}
            for sub in ctx.ledger.accepted(ctx.month, unit.name):
                article = article_of(sub, rules) if sub.category in categories else None
                if article is None:
                    continue
                shares = author_shares(
                    sub,
                    article.points,
                    sender=unit.name,
                    units=ctx.ledger.unit_names,
                    split=rules.split_authors,
                )
                head = f"《{sub.title}》{article.label}计{fmt(article.points)}分"
                rule = f"article:{article.category}"
                yield from credits(shares, rule=rule, head=head, sender=unit.name, submission_id=sub.id)
        if day_of(ctx.month.start).month == 12:
            yield from self._year_end(ctx)

    def _year_end(self, ctx: MonthContext) -> Iterator[Credit]:
        first = datetime.combine(day_of(ctx.month.start).replace(month=1, day=1), time.min, tzinfo=SHANGHAI)
        year = Period(str(first.year), first, ctx.month.end)
        if not ctx.over(year):
            return
        for unit in ctx.ledger.units:
            rules = ctx.rules(unit.name)
            if not any(article.required_per_year for article in rules.articles):
                continue
            # Each draft counts as the article its own month's rules make it.
            found = []
            for number in range(1, 13):
                period = month(first.year, number)
                held = ctx.rules(unit.name, period)
                categories = {a.category for a in held.articles}
                for sub in ctx.ledger.accepted(period, unit.name):
                    kind = article_of(sub, held) if sub.category in categories else None
                    if kind is not None:
                        found.append(kind.category)
            for article in rules.articles:
                if article.required_per_year == 0:
                    continue
                count = found.count(article.category)
                missing = article.required_per_year - count
                if missing <= 0:
                    continue
                points = article.per_missing * missing
                outcome = (
                    f"扣{fmt(-points)}分" if points < 0 else "不扣分" if points == 0 else f"计{fmt(points)}分"
                )
                note = (
                    f"{year.label}年报送{article.label}{count}篇，全年应报{article.required_per_year}篇，"
                    f"少{missing}篇，{outcome}"
                )
                rule = f"article:{article.category}:missing"
                yield Credit(unit.name, Line(rule, points, None, None, None, note))
