"""Mail from the office's own address: commands, never a receipt.

Subject 【采用】: a bulletin of adopted titles (daemon/bulletin.py); 【约稿评分】 or a reply to the
weekly reminder with grading lines: grades (daemon/grading.py); 【约稿】: a solicitation
(daemon/solicitations.py). A command is obeyed only when the From is proven (a forged one alerts
the office) and carried out once: its message keeps the outcome `command`, so `xinbao reprocess`
records it again without doing it again. Other office mail is ignored.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from daemon import bulletin, grading, replies, solicitations
from daemon.config import Config
from daemon.models import Message, MessageState
from parsers.authresults import Verdict
from parsers.types import ParsedMessage

log = logging.getLogger(__name__)

# The subject tag of an office adoption bulletin (issue 4): the titles adopted, one per line.
BULLETIN_TAG = "【采用】"
# The outcome of an office mail whose command was carried out; kept on the row when it is read again.
COMMAND = "command"


def handle(
    s: Session,
    config: Config,
    msg: Message,
    parsed: ParsedMessage,
    verdict: Verdict | None,
    *,
    now: datetime,
    quiet: bool,
) -> MessageState:
    """Carry out the command of a mail from an office address, or ignore it; its new state."""
    if verdict is not None and not verdict.verified:
        log.warning("mail claiming office address %s not verified (%s)", parsed.from_addr, verdict.reason)
        msg.state, msg.outcome = MessageState.IGNORED, "forged_office"
        if not quiet:
            replies.alert_forged_office(s, config, msg, verdict.reason, now=now)
        return msg.state
    if msg.outcome == COMMAND:
        # Carried out when the mail first came; `xinbao reprocess` reads it again, and what the
        # office did since (a revoked adoption, a regraded answer) must stand.
        msg.state = MessageState.RECORDED
        return msg.state
    if BULLETIN_TAG in parsed.subject:
        result = bulletin.handle_bulletin(
            s,
            config,
            parsed.body.splitlines(),
            now=now,
            subject=parsed.subject,
            adopted_at=msg.internaldate,
            sender=parsed.from_addr,
        )
        if not quiet:
            replies.answer_bulletin(s, config, msg, parsed, result, now=now)
        msg.state, msg.outcome = MessageState.RECORDED, COMMAND
        return msg.state
    if grading.is_grading(s, parsed):
        grading.handle_mail(
            s,
            config,
            parsed,
            message_row_id=msg.id,
            sha=msg.sha256,
            sent_at=msg.internaldate,
            now=now,
            quiet=quiet,
        )
        msg.state, msg.outcome = MessageState.RECORDED, COMMAND
        return msg.state
    if solicitations.TAG in parsed.subject:
        solicitations.handle_mail(
            s, config, parsed, message_row_id=msg.id, sha=msg.sha256, now=now, quiet=quiet
        )
        msg.state, msg.outcome = MessageState.RECORDED, COMMAND
        return msg.state
    msg.state, msg.outcome = MessageState.IGNORED, "office"
    return msg.state
