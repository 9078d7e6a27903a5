"""What the pipeline fills to answer a publicist: receipt or rejection, and the unknown-sender reply.

The choice: a message gets a *rejection* (退稿通知) when none of its drafts is on record, i.e. no
draft is `accepted`, `replaced` or `duplicate`; otherwise a *receipt* (回执), which also lists
the drafts that need fixing, so one accepted and one rejected draft make one receipt. A
`duplicate` draft was counted when it first came, so a message of duplicates only is receipted
("此前已报送，本次不重复计数"), not rejected. `replaced` marks a corrected resubmission that takes
the place of an earlier rejected draft; it counts like `accepted`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from outbox.render import Rendered, render

DraftStatus = Literal["accepted", "duplicate", "rejected", "replaced"]
RECORDED: frozenset[str] = frozenset({"accepted", "replaced", "duplicate"})
COUNTED: frozenset[str] = frozenset({"accepted", "replaced"})


@dataclass(frozen=True)
class ReceiptDraft:
    """One draft of the message as the publicist should see it."""

    number: int | None  # the submission id, None when not recorded
    title: str
    authors: Sequence[tuple[str, str]]  # (unit, name)
    first_reviewer: str | None
    second_reviewer: str | None
    images: int
    status: DraftStatus
    problems: Sequence[tuple[str, str]] = ()  # (message, fix)
    column: str | None = None  # the column (栏目) the draft is filed under, e.g. 动态要闻


@dataclass(frozen=True)
class ReceiptContext:
    """Everything a receipt or rejection says; counts already include this message's drafts."""

    unit: str | None
    sender_name: str | None
    received_at: datetime  # aware; shown in Asia/Shanghai
    drafts: Sequence[ReceiptDraft]
    week_label: str  # "第25周"
    week_count: int
    week_quota: int
    month_count: int
    month_quota: int
    message_problems: Sequence[tuple[str, str]]  # (message, fix) about the mail as a whole
    office_name: str
    subject: str = ""  # the publicist's own subject line, named when no draft could be read

    @property
    def is_rejection(self) -> bool:
        return not any(d.status in RECORDED for d in self.drafts)


def mail_kind(ctx: ReceiptContext) -> Literal["receipt", "rejection"]:
    """The outbox kind (the first part of the key) of the reply to this message."""
    return "rejection" if ctx.is_rejection else "receipt"


def render_receipt(ctx: ReceiptContext, *, today: datetime) -> Rendered:
    """The subject and bodies of the receipt or the rejection for `ctx`."""
    to_fix = [d for d in ctx.drafts if d.status not in RECORDED]
    if ctx.is_rejection:
        return render(
            "publicist/rejection",
            ctx=ctx,
            titles=[d.title for d in ctx.drafts if d.title],
            office_name=ctx.office_name,
            today=today,
        )
    return render(
        "publicist/receipt",
        ctx=ctx,
        titles=[d.title for d in ctx.drafts if d.status in RECORDED],
        to_fix=to_fix,
        office_name=ctx.office_name,
        today=today,
    )
