"""The rule profile: effective-dated versions of a bureau's scoring rules, per unit group.

A profile is written in TOML (format: docs/scoring.md) and parsed by `scoring.profile_toml`.
The records here are what the rules read; all amounts are Decimal, deductions negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib.resources import files
from typing import Literal

from scoring.periods import Period, day_of

Combine = Literal["stack", "max"]
ItemType = Literal["period", "bonus", "deduction"]
Cycle = Literal["daily", "weekly", "biweekly", "monthly", "quarterly", "yearly", "on_demand"]
CYCLES: tuple[Cycle, ...] = ("daily", "weekly", "biweekly", "monthly", "quarterly", "yearly", "on_demand")
ColumnChannel = Literal["website", "wechat"]
CHANNEL_NAMES: dict[str, str] = {"website": "局网站", "wechat": "微信公众号"}

DEFAULT_PROFILE = "panjin-2025"
PACKAGED_PROFILES = ("panjin-2025", "example-province")


class ProfileError(ValueError):
    """A profile that cannot be used; the message is Chinese and names the offending key."""


@dataclass(frozen=True)
class Channel:
    """An adoption channel (采用渠道): its level (municipal, provincial, …) and points."""

    name: str
    level: str
    label: str  # how notices name it, e.g. 市政府《政务信息》
    points: Decimal


@dataclass(frozen=True)
class DraftPoints:
    """Points per accepted draft; `cap` bounds one sending unit's draft points in a month."""

    points: Decimal = Decimal(0)
    cap: Decimal | None = None


@dataclass(frozen=True)
class Quota:
    """A minimum number of drafts per week or month, and the points below or above it.

    `per_missing` is added once per missing draft (so a deduction is negative), `per_extra` once
    per draft above `required`; `max_deduction` and `max_bonus` bound the totals (magnitudes).
    A period with fewer than `min_workdays` workdays has no quota.
    """

    required: int = 0
    per_missing: Decimal = Decimal(0)
    per_extra: Decimal = Decimal(0)
    max_deduction: Decimal | None = None
    max_bonus: Decimal | None = None
    min_workdays: int = 1


@dataclass(frozen=True)
class Article:
    """An annual special article (调研类 / 经验类), scored instead of the per-draft points."""

    category: str  # the submission category the daemon sets from the subject tag
    tag: str  # 调研, written as 【调研】 in the subject
    label: str
    min_chars: int
    points: Decimal
    adopted_points: Decimal  # the article's total once adopted by one of `adopted_by`
    adopted_by: tuple[str, ...]
    required_per_year: int
    per_missing: Decimal  # added per missing article at year end (negative)


@dataclass(frozen=True)
class Item:
    """A kind of score item the office enters by hand (栏目素材, 领导批示, 迟报, …).

    `points` is the default when an entry gives none (None: the office must give a figure);
    bonuses always add and deductions always subtract, whatever sign the office typed;
    `max` bounds the magnitude of one entry.
    """

    kind: str
    label: str
    type: ItemType
    points: Decimal | None
    max: Decimal | None


@dataclass(frozen=True)
class Column:
    """A column (栏目, 附件1 and 附件2): where it is published, how often, by whom, its points.

    `units` are unit names or unit groups (county, department); empty means every unit.
    With `per_unit`, each responsible unit owes one item per cycle (附件1: 每周上报一篇);
    otherwise the cycle is shared: any responsible unit's item fulfils it, and a missed item's
    `per_missing` is split evenly among the responsible units. Periods: `scoring.columns`.
    """

    name: str
    channel: ColumnChannel
    cycle: Cycle
    units: tuple[str, ...]
    points: Decimal  # per accepted item, instead of the per-draft points
    per_missing: Decimal  # per missing item (negative to deduct)
    per_unit: bool = False
    label: str = ""

    @property
    def title(self) -> str:
        """How notes name it: 局网站“动态要闻”栏目."""
        return f"{CHANNEL_NAMES[self.channel]}“{self.label or self.name}”栏目"


@dataclass(frozen=True)
class RuleSet:
    """Everything one unit group is scored by under one version."""

    draft: DraftPoints
    channels: tuple[Channel, ...]
    combine: Combine
    split_authors: bool
    week: Quota
    month: Quota
    articles: tuple[Article, ...]
    items: tuple[Item, ...]
    columns: tuple[Column, ...] = ()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def article(self, category: str) -> Article | None:
        return next((a for a in self.articles if a.category == category), None)

    def item(self, kind: str) -> Item | None:
        return next((i for i in self.items if i.kind == kind), None)

    def resolve_channel(self, *, level: str | None = None, channel: str | None = None) -> Channel:
        """The channel `adopt --channel NAME` or `adopt --level LEVEL` names; ProfileError if none or several."""
        if channel is not None:
            found = self.channel(channel)
            if found is None:
                known = "、".join(c.name for c in self.channels)
                raise ProfileError(f"计分规则中没有采用渠道“{channel}”（现有：{known}）")
            return found
        matches = [c for c in self.channels if c.level == level]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            levels = "、".join(dict.fromkeys(c.level for c in self.channels))
            raise ProfileError(f"计分规则中没有级别为“{level}”的采用渠道（现有级别：{levels}）")
        names = "、".join(c.name for c in matches)
        raise ProfileError(f"级别“{level}”有多个采用渠道：{names}，请用 --channel 指定")


@dataclass(frozen=True)
class Version:
    """The rules in force from `effective_from` until the next version's date."""

    effective_from: date
    note: str
    default: RuleSet
    groups: tuple[tuple[str, RuleSet], ...] = ()

    def rules(self, group: str) -> RuleSet:
        return next((r for g, r in self.groups if g == group), self.default)


@dataclass(frozen=True)
class Profile:
    """A named profile: its versions in ascending order of `effective_from`."""

    name: str
    title: str
    versions: tuple[Version, ...]

    def version_for(self, period: Period) -> Version:
        """The version in force on the first day of `period`.

        A period that starts before the first version is scored by the first version (the
        regulation's own first month, e.g. May 2025 for a regulation dated 9 May 2025).
        """
        start = day_of(period.start)
        current = self.versions[0]
        for version in self.versions[1:]:
            if version.effective_from <= start:
                current = version
        return current

    def precedes(self, period: Period) -> bool:
        """Whether `period` ends before the first version takes effect (no rules were in force)."""
        return day_of(period.end) <= self.versions[0].effective_from

    def rules(self, period: Period, group: str) -> RuleSet:
        return self.version_for(period).rules(group)


def load_packaged_profile(name: str = DEFAULT_PROFILE) -> Profile:
    """Read a profile shipped in scoring/profiles/ — the only file scoring/ ever reads."""
    from scoring.profile_toml import parse_profile

    if name not in PACKAGED_PROFILES:
        raise ProfileError(f"没有名为“{name}”的内置计分规则（可用：{'、'.join(PACKAGED_PROFILES)}）")
    text = (files("scoring") / "profiles" / f"{name}.toml").read_text(encoding="utf-8")
    return parse_profile(text, source=name)
