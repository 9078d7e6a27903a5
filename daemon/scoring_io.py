"""Where config meets scoring/: the rule profile, work calendar, quotas and articles config names.

config.toml:

    [scoring]
    profile = "panjin-2025"          # a packaged profile (the default) …
    # profile_file = "rules.toml"    # … or a profile file, relative to config.toml

    [calendar]                       # scoring.calendar: holidays and adjusted workdays to override
    holidays = [2027-02-08]
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

from daemon.config import Config, ConfigError
from scoring.calendar import CalendarError, WorkCalendar, calendar_from_config
from scoring.periods import SHANGHAI, Period, month_of, week_of
from scoring.profile import DEFAULT_PROFILE, PACKAGED_PROFILES, Article, Profile, ProfileError, RuleSet
from scoring.profile import load_packaged_profile as _load_packaged
from scoring.profile_toml import parse_profile
from scoring.quota import month_of_week
from scoring.records import UnitRecord

_SCORING_KEYS = {"profile", "profile_file", "columns_from"}


def load_profile(config: Config) -> Profile:
    """The rule profile config names (`[scoring]`), the packaged Panjin profile by default."""
    raw = config.extra.get("scoring", {})
    if not isinstance(raw, dict):
        raise ConfigError('配置 [scoring] 应为一个表，如 profile = "panjin-2025"')
    unknown = sorted(set(raw) - _SCORING_KEYS)
    if unknown:
        raise ConfigError(f"配置 [scoring] 中有无法识别的项：{', '.join(unknown)}")
    if "profile" in raw and "profile_file" in raw:
        raise ConfigError("配置 [scoring] 中 profile 和 profile_file 只能写一个")
    name = str(raw.get("profile", DEFAULT_PROFILE))
    file = raw.get("profile_file")
    # docs/scoring.md lets `profile` name a file too: anything that is not a packaged name.
    if file is None and name not in PACKAGED_PROFILES and (name.endswith(".toml") or "/" in name):
        file = name
    try:
        if file is None:
            return _packaged(name)
        path = config.resolve(str(file))
        try:
            stat = path.stat()
        except OSError:
            raise ConfigError(f"找不到计分规则文件 {path}") from None
        return _from_file(str(path), stat.st_mtime_ns)
    except ProfileError as exc:
        raise ConfigError(str(exc)) from exc


@lru_cache(maxsize=4)
def _packaged(name: str) -> Profile:
    return _load_packaged(name)


@lru_cache(maxsize=4)
def _from_file(path: str, _mtime_ns: int) -> Profile:
    # Keyed by modification time too, so a long-running daemon picks up an edited file.
    return parse_profile(Path(path).read_text(encoding="utf-8"), source=path)


def columns_from(config: Config) -> date | None:
    """`[scoring] columns_from`: the day column (栏目) shortfalls are judged from; None: never."""
    raw = config.extra.get("scoring", {})
    value = raw.get("columns_from") if isinstance(raw, dict) else None
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"配置 [scoring] columns_from 应为日期（如 2025-07-01），实际为 {value!r}"
        ) from None


def load_calendar(config: Config) -> WorkCalendar:
    """The work calendar with config's `[calendar]` overrides."""
    try:
        return calendar_from_config(config.extra.get("calendar", {}))
    except CalendarError as exc:
        raise ConfigError(str(exc)) from exc


def unit_records(config: Config) -> tuple[UnitRecord, ...]:
    """Every configured unit, in the order of config.toml (the order notices list them in)."""
    return tuple(UnitRecord(u.name, u.group, i) for i, u in enumerate(config.units))


def rules_at(config: Config, moment: datetime, group: str) -> RuleSet:
    """The rules a unit of `group` is held to for something that happened at `moment`."""
    return load_profile(config).rules(month_of(moment), group)


def articles(config: Config, moment: datetime, group: str) -> tuple[Article, ...]:
    """The annual article kinds (subject tags 【调研】, 【经验】, …) in force at `moment`."""
    return rules_at(config, moment, group).articles


def quotas(config: Config, moment: datetime, group: str) -> tuple[int, int]:
    """The weekly and monthly number of drafts required of a unit of `group`, as of `moment`."""
    profile = load_profile(config)
    week = profile.rules(month_of_week(week_of(moment)), group).week
    month = profile.rules(month_of(moment), group).month
    return week.required, month.required


def year_period(year: int) -> Period:
    start = datetime.combine(date(year, 1, 1), time.min, tzinfo=SHANGHAI)
    end = datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=SHANGHAI)
    return Period(str(year), start, end)
