"""Rule `adoption:<channel>`: points for a draft taken up by a channel (三(一)2, 二(四)).

An adoption counts in the month of `adopted_at` (the regulation scores adoptions per monthly
bulletin) by that month's rules; revoked ones never count. When several channels adopt one
draft, `combine = "stack"` adds them all (each channel once), `"max"` keeps the highest: a later,
higher adoption scores only the difference, a lower one scores 0. An annual article adopted by a
channel of its `adopted_by` is worth `adopted_points` in all, so that adoption adds the difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from scoring.context import Credit, MonthContext, adoption_order, article_of, credits
from scoring.records import AdoptionRecord, SubmissionRecord
from scoring.results import Line
from scoring.split import author_shares, fmt


@dataclass(frozen=True)
class _Value:
    points: Decimal
    label: str  # the channel as notices name it
    head: str  # the note's opening


class AdoptionRule:
    name = "adoption"
    description = "稿件被各级渠道采用计分；多渠道采用同一稿件可累加或取最高"

    def score(self, ctx: MonthContext) -> Iterator[Credit]:
        for adoption in ctx.ledger.active_adoptions(ctx.month):
            sub = ctx.ledger.submission(adoption.submission_id)
            if sub is None or sub.status != "accepted":
                continue
            sender = ctx.sender(sub)
            if sender is None:
                continue
            yield from self._credits(ctx, sub, sender, adoption)

    def _credits(
        self, ctx: MonthContext, sub: SubmissionRecord, sender: str, adoption: AdoptionRecord
    ) -> Iterator[Credit]:
        rule = f"{self.name}:{adoption.channel}"
        rules = ctx.rules_at(sender, adoption.adopted_at)
        value = _value(ctx, sub, sender, adoption)
        earlier = [
            (a, _value(ctx, sub, sender, a))
            for a in ctx.ledger.adoptions_of(sub.id)
            if adoption_order(a) < adoption_order(adoption)
        ]
        points, head = value.points, value.head
        if rules.combine == "max" and earlier:
            best = max((v for _, v in earlier), key=lambda v: v.points)
            points = max(Decimal(0), value.points - best.points)
            if points == 0:
                head += f"；按最高一项计分，已按{best.label}计{fmt(best.points)}分，本次不另计分"
            elif points < value.points:
                head += (
                    f"；按最高一项计分，此前已按{best.label}计{fmt(best.points)}分，本次补计{fmt(points)}分"
                )
        elif any(a.channel == adoption.channel for a, _ in earlier):
            points = Decimal(0)
            head += "；同一渠道重复登记，不重复计分"
        if points == 0:
            yield Credit(sender, Line(rule, points, sub.id, adoption.id, None, head))
            return
        shares = author_shares(
            sub, points, sender=sender, units=ctx.ledger.unit_names, split=rules.split_authors
        )
        yield from credits(
            shares, rule=rule, head=head, sender=sender, submission_id=sub.id, adoption_id=adoption.id
        )


def _value(ctx: MonthContext, sub: SubmissionRecord, sender: str, adoption: AdoptionRecord) -> _Value:
    """What `adoption` alone is worth, by the rules of its own month."""
    rules = ctx.rules_at(sender, adoption.adopted_at)
    channel = rules.channel(adoption.channel)
    if channel is None:
        head = f"《{sub.title}》被“{adoption.channel}”采用，该渠道不在计分规则中，不计分"
        return _Value(Decimal(0), adoption.channel, head)
    article = article_of(sub, rules)
    if article is not None and channel.name in article.adopted_by:
        points = article.adopted_points - article.points
        head = (
            f"《{sub.title}》（{article.label}）被{channel.label}采用计{fmt(article.adopted_points)}分，"
            f"报送时已计{fmt(article.points)}分，补计{fmt(points)}分"
        )
        return _Value(points, channel.label, head)
    return _Value(
        channel.points, channel.label, f"《{sub.title}》被{channel.label}采用计{fmt(channel.points)}分"
    )
