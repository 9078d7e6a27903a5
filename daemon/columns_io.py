"""Filing a draft under a column (栏目): a subject tag 【栏目名】 or a line “栏目：栏目名” in the draft.

The line in the draft wins over the subject (it names one draft where the subject speaks for all
of the mail's drafts). A line naming no column of the profile rejects the draft with the list of
columns; a subject tag that is not a column is just another tag (【调研】, 【约稿】 …).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from daemon import scoring_io
from daemon.config import Config
from parsers.types import Code, Problem, problem
from scoring.profile import Column

_LINE = re.compile(r"^\s*栏\s*目\s*[：:]\s*(?P<name>.+?)\s*$")
_PAIRS = ("【】", "《》", "“”", '""', "「」", "[]")


def column_line(body: Sequence[str]) -> str | None:
    """The column a `栏目：` paragraph of the draft names, quotes and brackets stripped."""
    for paragraph in body:
        found = _LINE.match(paragraph)
        if found:
            name = found["name"].strip(" 。.；;")
            for pair in _PAIRS:
                if len(name) > 2 and name[0] == pair[0] and name[-1] == pair[1]:
                    name = name[1:-1].strip()
            return name
    return None


def file_under(
    columns: Sequence[Column], *, subject: str, body: Sequence[str], source: str = ""
) -> tuple[str | None, Problem | None]:
    """The column's name the draft is filed under (or None), or the problem of an unknown one."""
    named = column_line(body)
    if named is not None:
        if any(c.name == named for c in columns):
            return named, None
        by_label = next((c.name for c in columns if c.label == named), None)
        if by_label is not None:
            return by_label, None
        return None, unknown_column(columns, named, source=source)
    return next((c.name for c in columns if f"【{c.name}】" in subject), None), None


def unknown_column(columns: Sequence[Column], name: str, *, source: str = "") -> Problem:
    valid = "、".join(c.name for c in columns) or "（计分规则未设栏目）"
    return problem(Code.UNKNOWN_COLUMN, source=source, name=name, detail=f"可选栏目：{valid}")


def columns_at(config: Config, moment: datetime, group: str) -> tuple[Column, ...]:
    """The columns in force at `moment` for a unit of `group`."""
    return scoring_io.rules_at(config, moment, group).columns
