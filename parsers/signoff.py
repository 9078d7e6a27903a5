"""The sign-off grammar of a draft (附件3): “撰稿人：单位（科室）姓名” and “初审人：… 复审人：…”.

A sign-off line starts with a label (撰稿人/撰稿/撰写人, 初审人/初审, 复审人/复审), possibly
inside a bracket, with spaces inside the label, an ASCII or full-width colon or none; several
labels may share a line. Authors are separated by 、，,；; 和 及 or whitespace; a unit written
before names carries to them until another unit appears (“危化科王强、李明；执法支队 赵敏”).
Units are kept as written: resolving them against the configured units is the daemon's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from parsers.types import Author, Signoff

_T = TypeVar("_T")

_S = r"[\s\u200b]*"
# The three labels of 附件3; `other` labels (a photographer, the office's final review) end the
# value before them but are not ours.
_LABEL = re.compile(
    rf"(?P<author>撰{_S}[稿写](?:{_S}人)?)|(?P<first>初{_S}审(?:{_S}人)?)|(?P<second>复{_S}审(?:{_S}人)?)"
    rf"|(?P<other>终{_S}审(?:{_S}人)?|审{_S}核{_S}人|签{_S}发(?:{_S}人)?|摄{_S}影|编{_S}辑|联系电话|电{_S}话|手{_S}机)"
)
_COLON = re.compile(rf"{_S}[:：]")
_OPENERS = "（(【[〔"
_CLOSERS = "）)】]〕"
# A label glued to its value (“撰稿人王强”) is only believed on a short line without a sentence end.
_GLUED_MAX = 40
_SENTENCE_END = re.compile(r"[。！？!?]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\ufeff]")

_SEPARATORS = "、，,；;/／|｜"
_PLACEHOLDER = re.compile(r"[XxＸｘ×*＊○〇某]{2,}")
_UNIT_SUFFIXES = (
    "局", "科", "室", "队", "中心", "部", "办", "所", "站", "委", "处", "组", "公司", "单位", "院", "厂",
)  # fmt: skip
# A last token ending in these is a unit even when short (“执法支队”); “王立科” stays a name.
_STRONG_SUFFIXES = ("中心", "支队", "大队", "公司", "单位", "办公室", "管理局", "管理部", "应急局")
_TITLE = r"副?(?:支队|大队|中队|科|局|处|部|所|站|队|组)长|副?主任|书记|科员|干事"
_LEADING_TITLE = re.compile(rf"^(?:{_TITLE})")
_TRAILING_TITLE = re.compile(rf"(?:{_TITLE}|同志|等)$")
_STRIP = " \t\r\n\u3000\u00a0:：.。!！?？\"“”'‘’·•-—_"
_NAME = re.compile(r"^[^\W\d_]+(?:[·•][^\W\d_]+)*$")


@dataclass(frozen=True)
class SignoffResult:
    """The sign-off found and the indexes of the lines that were sign-off lines."""

    signoff: Signoff
    consumed: frozenset[int]


def parse_signoff(lines: Sequence[str]) -> SignoffResult:
    """Read authors and reviewers from every sign-off line of a draft, in order."""
    authors: list[Author] = []
    first: list[str] = []
    second: list[str] = []
    consumed: set[int] = set()
    for index, line in enumerate(lines):
        segments = _segments(line)
        if not segments or all(kind == "other" for kind, _ in segments):
            continue
        consumed.add(index)
        for kind, value in segments:
            if kind == "author":
                authors.extend(split_authors(value))
            elif kind == "first":
                first.extend(_names(value))
            elif kind == "second":
                second.extend(_names(value))
    signoff = Signoff(
        authors=tuple(_unique(authors, key=lambda a: a.name)),
        first_reviewer="、".join(_unique(first, key=str)) or None,
        second_reviewer="、".join(_unique(second, key=str)) or None,
    )
    return SignoffResult(signoff=signoff, consumed=frozenset(consumed))


def split_authors(text: str) -> tuple[Author, ...]:
    """Split a 撰稿人 value into authors, each with the unit written before (or after) the name."""
    authors: list[Author] = []
    unit: str | None = None
    tokens = _tokens(text)
    for i, (token, spaced) in enumerate(tokens):
        last = i == len(tokens) - 1
        unit_only = (spaced and not last) or _unit_alone(token, last)
        lead, name, trail = _read_token(token, unit_only=unit_only)
        if lead is not None:
            unit = None if _PLACEHOLDER.search(lead) else lead
        if name is None:
            continue
        owner = trail if trail is not None else unit
        authors.append(Author(name=name, unit=None if owner and _PLACEHOLDER.search(owner) else owner))
    return tuple(_unique(authors, key=lambda a: a.name))


def _segments(line: str) -> list[tuple[str, str]]:
    """The (label kind, value) pairs of a sign-off line; empty when the line is not one."""
    text = _INVISIBLE.sub("", line).strip()
    if text[:1] in _OPENERS:
        text = text[1:].strip()
        if text[-1:] in _CLOSERS:
            text = text[:-1].strip()
    head = _LABEL.match(text)
    if head is None or (head_end := _label_end(text, head, head=True)) is None:
        return []
    glued = head_end == head.end() < len(text) and not text[head_end].isspace()
    if glued and (len(text) > _GLUED_MAX or _SENTENCE_END.search(text)):
        return []
    starts = [(head, head_end)]
    for m in _LABEL.finditer(text, head.end()):
        if (end := _label_end(text, m, head=False)) is not None:
            starts.append((m, end))
    segments: list[tuple[str, str]] = []
    for j, (m, end) in enumerate(starts):
        stop = starts[j + 1][0].start() if j + 1 < len(starts) else len(text)
        segments.append((m.lastgroup or "other", text[end:stop].strip(_STRIP + _SEPARATORS)))
    return segments


def _label_end(text: str, m: re.Match[str], *, head: bool) -> int | None:
    """Where the value after a label starts, or None when this is no label (“初审人员”)."""
    colon = _COLON.match(text, m.end())
    if colon:
        return colon.end()
    before = text[m.start() - 1] if m.start() else " "
    if not (before.isspace() or before in _SEPARATORS + _OPENERS + _CLOSERS):
        return None
    if m.end() == len(text) or text[m.end()].isspace():
        return m.end()
    # Glued to its value: a long label (“撰稿人王强”) anywhere, a short one (“初审刘洋”) only
    # after the line has already proved to be a sign-off line.
    long_form = re.sub(r"\s", "", m.group()).endswith("人")
    if m.lastgroup != "other" and text[m.end()] != "员" and (long_form or not head):
        return m.end()
    return None


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Split on separators outside brackets; each token says whether whitespace followed it."""
    # A bracket holding digits is a phone number or a date, never a unit.
    text = re.sub(r"[（(][^（()）]*\d[^（()）]*[)）]", " ", _INVISIBLE.sub("", text))
    tokens: list[tuple[str, bool]] = []
    buf: list[str] = []

    def flush(spaced: bool) -> None:
        word = "".join(buf).strip(_STRIP)
        buf.clear()
        if word:
            tokens.extend((piece, False) for piece in _split_conjunctions(word))
            tokens[-1] = (tokens[-1][0], spaced)
        elif tokens and not spaced:
            # “王立科 、李娜”: the real separator is the punctuation, not the space before it.
            tokens[-1] = (tokens[-1][0], False)

    depth = 0
    for ch in text:
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(depth - 1, 0)
        if depth == 0 and (ch.isspace() or ch in _SEPARATORS):
            flush(ch.isspace())
        else:
            buf.append(ch)
    flush(False)
    return tokens


def _split_conjunctions(word: str) -> list[str]:
    """Split on 和/及 only where both sides can be names: “王强和李明” but never “王和平”."""
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(word):
        if ch in "和及" and i - start >= 2 and len(word) - i - 1 >= 2 and not _bracketed(word, i):
            pieces.append(word[start:i])
            start = i + 1
    pieces.append(word[start:])
    return pieces


def _bracketed(word: str, i: int) -> bool:
    depth = 0
    for ch in word[:i]:
        depth += (ch in _OPENERS) - (ch in _CLOSERS)
    return depth > 0


def _unit_alone(token: str, last: bool) -> bool:
    """Whether a token without a name is a unit: “执法支队”, “盘山县应急管理局（办公室）”."""
    if token.endswith(_STRONG_SUFFIXES) or token[-1:] in _CLOSERS:
        return True
    return not last and len(token) >= 5 and token.endswith(_UNIT_SUFFIXES)


def _read_token(token: str, *, unit_only: bool) -> tuple[str | None, str | None, str | None]:
    """(leading unit, name, trailing unit) of one token; any of them may be None."""
    if len(token) > 3:
        token = _LEADING_TITLE.sub("", token)
    closer = max(token.rfind(c) for c in _CLOSERS)
    if 0 <= closer < len(token) - 1:
        return token[: closer + 1], _name(token[closer + 1 :]), None
    if closer == len(token) - 1:
        opener = max(token.rfind(c) for c in _OPENERS)
        prefix, inner = token[: max(opener, 0)], token[opener + 1 : -1].strip()
        if 0 < len(prefix) <= 4 and not prefix.endswith(_UNIT_SUFFIXES) and _NAME.match(prefix):
            return None, _name(prefix), None if _LEADING_TITLE.fullmatch(inner) else inner or None
        return token, None, None
    if unit_only and token.endswith(_UNIT_SUFFIXES):
        return token, None, None
    # “危化科王强”: cut after a unit suffix so that a 2–3 character name remains (4 if nothing
    # shorter fits), the earliest such cut first (“危化科科长刘洋” → 危化科 / 刘洋).
    best: tuple[int, int, str] | None = None
    for i in range(1, len(token) - 1):
        if not token[: i + 1].endswith(_UNIT_SUFFIXES):
            continue
        rest = _strip_titles(token[i + 1 :])
        if 2 <= len(rest) <= 4 and _NAME.match(rest) and not rest.endswith(_STRONG_SUFFIXES):
            rank = (0 if len(rest) <= 3 else 1, i, rest)
            best = rank if best is None or rank < best else best
    if best is not None:
        return token[: best[1] + 1], _name(best[2]), None
    return None, _name(token), None


def _strip_titles(name: str) -> str:
    stripped = _TRAILING_TITLE.sub("", _LEADING_TITLE.sub("", name))
    return stripped if len(stripped) >= 2 else name


def _name(text: str) -> str | None:
    name = _strip_titles(text.strip(_STRIP))
    if len(name) < 2 or _PLACEHOLDER.fullmatch(name) or not _NAME.match(name):
        return None
    return name


def _names(value: str) -> list[str]:
    return [a.name for a in split_authors(value)]


def _unique(items: Iterable[_T], *, key: Callable[[_T], str]) -> list[_T]:
    seen: set[str] = set()
    kept: list[_T] = []
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            kept.append(item)
    return kept
