"""Render a named mail template into a subject, a plain-text body and an HTML body.

Templates live in `outbox/templates/`, named by audience and purpose: `publicist/receipt`,
`office/alert`, … Each name has `NAME.txt.j2` (required) and `NAME.html.j2` (optional). The
subject is the `{% block subject %}` of the text template, its lines stripped and joined without
a separator (Chinese puts no spaces between words, so a subject may be spread over lines); the
text template extends `_layout.txt.j2`, which never prints that block, so the subject does not
repeat in the body. The HTML template receives the same context plus `mail_subject`. HTML output is
autoescaped; text output is not. Undefined variables are errors, so a template and the code that
fills it cannot drift apart silently.

Filters for the bureau's way of writing: `cn_date` (2025年6月20日), `cn_datetime`
(2025年6月20日 09:30, in Asia/Shanghai), `cn_ordinal` (一、二、…).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

TZ = ZoneInfo("Asia/Shanghai")
_DIGITS = "零一二三四五六七八九"


@dataclass(frozen=True)
class Rendered:
    """A rendered mail: one-line subject, text body, HTML body (None without an HTML template)."""

    subject: str
    text: str
    html: str | None


def cn_date(value: date | datetime) -> str:
    """2025年6月20日; an aware datetime is first converted to Asia/Shanghai."""
    if isinstance(value, datetime):
        value = value.astimezone(TZ) if value.tzinfo else value
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: datetime) -> str:
    """2025年6月20日 09:30, in Asia/Shanghai."""
    local = value.astimezone(TZ) if value.tzinfo else value
    return f"{cn_date(local)} {local:%H:%M}"


def cn_ordinal(n: int) -> str:
    """1 → 一, 12 → 十二, 25 → 二十五 (enough for the drafts of one message)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _DIGITS[tens]
    return head + "十" + (_DIGITS[ones] if ones else "")


@cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment for outgoing mail."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("outbox", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(cn_date=cn_date, cn_datetime=cn_datetime, cn_ordinal=cn_ordinal)
    return env


def render(name: str, **ctx: Any) -> Rendered:
    """Render `NAME.txt.j2` (and `NAME.html.j2` if present) with `ctx`."""
    env = environment()
    text_tmpl = env.get_template(f"{name}.txt.j2")
    if "subject" not in text_tmpl.blocks:
        raise LookupError(f"template {name}.txt.j2 has no subject block")
    subject_parts = text_tmpl.blocks["subject"](text_tmpl.new_context(dict(ctx)))
    subject = "".join(line.strip() for line in "".join(subject_parts).splitlines())
    text = text_tmpl.render(**ctx)
    try:
        html_tmpl = env.get_template(f"{name}.html.j2")
    except jinja2.TemplateNotFound:
        return Rendered(subject, text, None)
    return Rendered(subject, text, html_tmpl.render({**ctx, "mail_subject": subject}))
