"""The office's emailed adoption bulletin: channel headings, one title per line, and the reply.

The pipeline hands it the office's 【采用】 mail; matching and recording are daemon.adoptions'.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from daemon.adoptions import (
    LEVEL_WORDS,
    MATCH_WINDOW,
    AdoptionError,
    BulletinResult,
    candidates,
    match_title,
    record_line,
    resolve_channel,
    split_line,
)
from daemon.config import Config
from daemon.history import header_key
from daemon.scoring_io import load_profile
from outbox.render import Rendered, render
from scoring.periods import month_of
from scoring.profile import Channel, ProfileError, RuleSet


def channel_named(rules: RuleSet, text: str, *, heading: bool) -> Channel | None:
    """The channel `text` names: anywhere in a subject; a bulletin line only if it is a heading."""
    key = header_key(text)
    keys = [(header_key(k), c) for c in rules.channels for k in (c.name, c.label)]
    keys += [(header_key(w), c) for w, lvl in LEVEL_WORDS.items() for c in rules.channels if c.level == lvl]
    if heading:
        key = re.sub(r"(采用情况|采用)$", "", key)
        hits = [c for k, c in keys if k == key]
    else:
        # The longest name found wins: 市政府政务信息 over a level word inside a longer phrase.
        found = [(k, c) for k, c in keys if k and k in key]
        longest = max((len(k) for k, _ in found), default=0)
        hits = [c for k, c in found if len(k) == longest]
    distinct = list(dict.fromkeys(hits))
    return distinct[0] if len(distinct) == 1 else None


def handle_bulletin(
    s: Session,
    config: Config,
    text_lines: Iterable[str],
    *,
    now: datetime,
    subject: str = "",
    channel: str | None = None,
    level: str | None = None,
    adopted_at: datetime | None = None,
    sender: str = "",
) -> BulletinResult:
    """Record the adoptions an office bulletin lists, one title per line (“标题（单位）”).

    The channel comes from `channel`/`level`, else from the subject (【采用】市政府政务信息…); a
    heading line (“省级：”) switches it for the lines below. Adoptions are dated `adopted_at`
    (default: `now`, when the bulletin came).
    """
    when = adopted_at or now
    rules = load_profile(config).rules(month_of(when), "")
    result = BulletinResult()
    try:
        current = resolve_channel(rules, level=level, channel=channel) if channel or level else None
    except ProfileError as exc:
        raise AdoptionError(str(exc)) from exc
    current = current or channel_named(rules, subject, heading=False)
    result.channel = current
    pool = candidates(s, before=when, since=when - MATCH_WINDOW)
    for raw in text_lines:
        line = raw.strip()
        if not line:
            continue
        # A heading ("省级采用：", "市政府《政务信息》第12期：") switches the channel below it.
        if line.endswith((":", "：")):
            current = channel_named(rules, line, heading=False) or current
            continue
        named = channel_named(rules, line, heading=True)
        if named is not None:
            current = named
            continue
        title, unit = split_line(s, line)
        found = match_title(title, unit, pool, adopted_at=when)
        record_line(
            s,
            config,
            result,
            line,
            found,
            channel=current,
            adopted_at=when,
            now=now,
            created_by=f"bulletin:{sender}",
        )
    return result


def bulletin_reply(result: BulletinResult, *, config: Config, subject: str, now: datetime) -> Rendered:
    """The reply to the office: matched, ambiguous and unmatched lines (office/adoption_bulletin)."""
    return render(
        "office/adoption_bulletin",
        result=result,
        channel=result.channel.label if result.channel else None,
        received_subject=subject,
        office_name=config.office.name,
        today=now,
    )
