"""Read a rule profile from TOML text into `scoring.profile` records, naming any bad key in Chinese.

Format (docs/scoring.md): top-level `name`, `title`, then `[[versions]]` in date order. Each
version inherits the previous one and overrides what it states; `[versions.groups.G]` overrides
the version's rules for unit group G. Numbers are read as Decimal (at most 4 decimal places).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any, NoReturn, cast

from scoring.profile import (
    CYCLES,
    Article,
    Channel,
    Column,
    ColumnChannel,
    Combine,
    Cycle,
    DraftPoints,
    Item,
    ItemType,
    Profile,
    ProfileError,
    Quota,
    RuleSet,
    Version,
)

_NOT_INHERITED = ("effective_from", "note")


def parse_profile(text: str, *, source: str) -> Profile:
    """Parse a profile; `source` (a name or path) prefixes every error message."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"计分规则 {source} 不是有效的 TOML：{exc}") from exc
    top = _Table(raw, "", source)
    name = top.text("name", source)
    title = top.text("title", name)
    raw_versions = top.tables_list("versions")
    top.finish()
    if not raw_versions:
        raise ProfileError(f"计分规则 {source}：至少需要一个 [[versions]]（含 effective_from）")
    versions: list[Version] = []
    inherited: dict[str, Any] = {}
    for index, own in enumerate(raw_versions):
        merged = _merge(inherited, own)
        versions.append(_version(merged, f"versions[{index}]", source))
        inherited = {k: v for k, v in merged.items() if k not in _NOT_INHERITED}
    for before, after in pairwise(versions):
        if after.effective_from <= before.effective_from:
            raise ProfileError(
                f"计分规则 {source}：各版本的 effective_from 须按日期递增"
                f"（{after.effective_from} 不晚于 {before.effective_from}）"
            )
    return Profile(name=name, title=title, versions=tuple(versions))


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else in `override` replaces what `base` had."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _version(raw: dict[str, Any], path: str, source: str) -> Version:
    table = _Table(raw, path, source)
    effective_from = table.day("effective_from")
    note = table.text("note", "")
    groups = table.subtables("groups")
    rules_raw = {k: v for k, v in raw.items() if k not in ("effective_from", "note", "groups")}
    table.finish(ignore=tuple(rules_raw))
    default = _rules(rules_raw, path, source)
    group_rules = tuple(
        (group, _rules(_merge(rules_raw, sub.raw), sub.path, source)) for group, sub in groups
    )
    return Version(effective_from=effective_from, note=note, default=default, groups=group_rules)


def _rules(raw: Mapping[str, Any], path: str, source: str) -> RuleSet:
    table = _Table(raw, path, source)
    combine = cast(Combine, table.choice("combine", ("stack", "max"), "stack"))
    split_authors = table.boolean("split_authors", True)
    draft = table.table("draft")
    draft_points = DraftPoints(points=draft.decimal("points", Decimal(0)), cap=draft.magnitude("cap"))
    draft.finish()
    channels = tuple(_channel(name, t) for name, t in table.subtables("channels"))
    quota = table.table("quota")
    week, month = _quota(quota.table("week")), _quota(quota.table("month"))
    quota.finish()
    names = {c.name for c in channels}
    articles = tuple(_article(category, t, names) for category, t in table.subtables("articles"))
    items = tuple(_item(kind, t) for kind, t in table.subtables("items"))
    columns = tuple(_column(name, t) for name, t in table.subtables("columns"))
    table.finish()
    return RuleSet(draft_points, channels, combine, split_authors, week, month, articles, items, columns)


def _channel(name: str, t: _Table) -> Channel:
    channel = Channel(name, t.text("level"), t.text("label", name), t.decimal("points"))
    t.finish()
    return channel


def _quota(t: _Table) -> Quota:
    quota = Quota(
        required=t.integer("required", 0),
        per_missing=t.decimal("per_missing", Decimal(0)),
        per_extra=t.decimal("per_extra", Decimal(0)),
        max_deduction=t.magnitude("max_deduction"),
        max_bonus=t.magnitude("max_bonus"),
        min_workdays=t.integer("min_workdays", 1),
    )
    t.finish()
    return quota


def _article(category: str, t: _Table, channels: set[str]) -> Article:
    points = t.decimal("points")
    adopted_by = t.strings("adopted_by")
    for name in adopted_by:
        if name not in channels:
            t.fail("adopted_by", f"提到的采用渠道“{name}”未在 channels 中定义")
    article = Article(
        category=category,
        tag=t.text("tag"),
        label=t.text("label", category),
        min_chars=t.integer("min_chars", 0),
        points=points,
        adopted_points=t.decimal("adopted_points", points),
        adopted_by=adopted_by,
        required_per_year=t.integer("required_per_year", 0),
        per_missing=t.decimal("per_missing", Decimal(0)),
    )
    t.finish()
    return article


def _item(kind: str, t: _Table) -> Item:
    item = Item(
        kind=kind,
        label=t.text("label", kind),
        type=cast(ItemType, t.choice("type", ("period", "bonus", "deduction"))),
        points=t.optional_decimal("points"),
        max=t.magnitude("max"),
    )
    t.finish()
    return item


def _column(name: str, t: _Table) -> Column:
    column = Column(
        name=name,
        channel=cast(ColumnChannel, t.choice("channel", ("website", "wechat"))),
        cycle=cast(Cycle, t.choice("cycle", CYCLES)),
        units=t.strings("units"),
        points=t.decimal("points"),
        per_missing=t.decimal("per_missing", Decimal(0)),
        per_unit=t.boolean("per_unit", False),
        label=t.text("label", name),
    )
    t.finish()
    return column


_REQUIRED: Any = object()


class _Table:
    """One TOML table being read: typed getters that remember which keys were used."""

    def __init__(self, raw: Mapping[str, Any], path: str, source: str) -> None:
        self.raw = dict(raw)
        self.path = path
        self.source = source
        self._used: set[str] = set()

    def fail(self, key: str, what: str) -> NoReturn:
        where = f"{self.path}.{key}" if self.path else key
        raise ProfileError(f"计分规则 {self.source}：{where} {what}")

    def _get(self, key: str, default: Any) -> Any:
        self._used.add(key)
        if key in self.raw:
            return self.raw[key]
        if default is _REQUIRED:
            self.fail(key, "缺失（必填）")
        return default

    def text(self, key: str, default: Any = _REQUIRED) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or not (value.strip() or key not in self.raw):
            self.fail(key, f"应为非空文字，实际为 {value!r}")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: Any = _REQUIRED) -> str:
        value = self.text(key, default)
        if value not in options:
            self.fail(key, f"应为 {' / '.join(options)} 之一，实际为 {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"应为 true 或 false，实际为 {value!r}")
        return value

    def integer(self, key: str, default: int) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(key, f"应为非负整数，实际为 {value!r}")
        return value

    def optional_decimal(self, key: str) -> Decimal | None:
        value = self._get(key, None)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.fail(key, f"应为数字，实际为 {value!r}")
        number = Decimal(value)
        if not number.is_finite() or cast(int, number.as_tuple().exponent) < -4:
            self.fail(key, f"应为最多4位小数的数字，实际为 {value!r}")
        return number

    def decimal(self, key: str, default: Any = _REQUIRED) -> Decimal:
        self._get(key, default)
        number = self.optional_decimal(key)
        return default if number is None else number

    def magnitude(self, key: str) -> Decimal | None:
        number = self.optional_decimal(key)
        if number is not None and number < 0:
            self.fail(key, f"是上限，应为非负数，实际为 {number}")
        return number

    def day(self, key: str) -> date:
        value = self._get(key, _REQUIRED)
        if not isinstance(value, date) or hasattr(value, "hour"):
            self.fail(key, f"应为日期（如 2025-05-09，不加引号），实际为 {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"应为文字列表，实际为 {value!r}")
        return tuple(value)

    def table(self, key: str) -> _Table:
        value = self._get(key, {})
        if not isinstance(value, dict):
            self.fail(key, f"应为表（[{key}]），实际为 {value!r}")
        return _Table(value, f"{self.path}.{key}" if self.path else key, self.source)

    def subtables(self, key: str) -> list[tuple[str, _Table]]:
        outer = self.table(key)
        return [(name, outer.table(name)) for name in outer.raw]

    def tables_list(self, key: str) -> list[dict[str, Any]]:
        value = self._get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, "应写作 [[versions]] 表数组")
        return value

    def finish(self, ignore: tuple[str, ...] = ()) -> None:
        """Refuse keys nobody read: a typo must not silently drop a rule."""
        unknown = sorted(set(self.raw) - self._used - set(ignore))
        if unknown:
            self.fail(unknown[0], "无法识别（拼写错误？）")
