"""The per-message pipeline: store the raw bytes, then parse, identify, record and reply at once.

Stages, in order (DESIGN.md "Message lifecycle"): daemon.intake has written the raw mail durably
and a `fetched` row; here the stored bytes are parsed and, in ONE transaction, the
submissions, problems and outbox rows and moves the row to `recorded`, `rejected` or `ignored`.
The server is told only afterwards (daemon.poller). Attempts are counted before the work, so a
message that crashes the process is marked `poison` after `max_attempts`, never retried forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from daemon import ledger, replies
from daemon.config import Config
from daemon.db import session
from daemon.failpoints import failpoint
from daemon.identify import Directory
from daemon.models import (
    Message,
    MessageState,
    Person,
    ProblemRecord,
    Submission,
    SubmissionAuthor,
    SubmissionStatus,
    Unit,
)
from daemon.rawstore import RawStore
from parsers.types import Code, Draft, ParsedMessage, Problem, problem

log = logging.getLogger(__name__)

# Subject tags of the annual articles (三、(二)3): at least 2000 characters each.
CATEGORY_TAGS = {"调研": "research", "经验": "experience"}
MIN_ARTICLE_CHARS = 2000
RESUBMISSION_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class DraftDecision:
    """What the ledger says about one draft, and why."""

    draft: Draft
    status: SubmissionStatus
    problems: tuple[Problem, ...]
    unit: Unit | None
    authors: tuple[tuple[str, str, Unit | None], ...]  # (name, unit as written, resolved unit)
    category: str
    replaces: Submission | None = None


class Pipeline:
    """Turns stored mail into ledger rows and queued replies; one transaction per message."""

    def __init__(
        self,
        *,
        config: Config,
        engine: Engine,
        store: RawStore,
        parse: Callable[[bytes], ParsedMessage],
        directory: Directory,
        clock: Callable[[], datetime],
        max_attempts: int = 3,
        quiet: bool = False,
    ) -> None:
        # `quiet`: record without queueing any mail (rebuilding the ledger must not answer again).
        self.quiet = quiet
        self.config = config
        self.engine = engine
        self.store = store
        self.parse = parse
        self.directory = directory
        self.clock = clock
        self.max_attempts = max_attempts

    def claim(self, row_id: int) -> bytes | None:
        """Count an attempt (committed before any work) and return the raw bytes, or None if done."""
        with session(self.engine) as s:
            msg = s.get(Message, row_id)
            if msg is None or msg.state != MessageState.FETCHED:
                return None
            if msg.attempts >= self.max_attempts:
                msg.state = MessageState.POISON
                msg.updated_at = self.clock()
                replies.alert_poison(s, self.config, msg, now=self.clock())
                log.error(
                    "message %s (uid %s) is poison after %d attempts: %s",
                    msg.id,
                    msg.uid,
                    msg.attempts,
                    msg.last_error,
                )
                return None
            msg.attempts += 1
            msg.updated_at = self.clock()
            sha = msg.sha256
        failpoint("attempt_counted")
        return self.store.get(sha)

    def fail(self, row_id: int, error: str) -> None:
        """Remember why an attempt failed; the next pass retries until max_attempts."""
        with session(self.engine) as s:
            msg = s.get(Message, row_id)
            if msg is not None:
                msg.last_error = error[:2000]
                msg.updated_at = self.clock()

    def record(self, row_id: int, parsed: ParsedMessage) -> MessageState | None:
        """Write everything the message causes, in one transaction; return its new state."""
        failpoint("parsed")
        now = self.clock()
        with session(self.engine) as s:
            msg = s.get(Message, row_id)
            if msg is None or msg.id is None or msg.state != MessageState.FETCHED:
                return None
            msg.message_id = parsed.message_id[:500]
            msg.from_addr = parsed.from_addr[:320]
            msg.subject = parsed.subject[:1000]
            msg.updated_at = now
            if parsed.auto_reply or is_own(self.config, parsed.from_addr):
                # Automatic mail (and our own replies bouncing back) is never answered.
                msg.state, msg.outcome = MessageState.IGNORED, "ignored"
                return msg.state
            if self._seen_before(s, msg):
                # The same bytes again (a rescan after UIDVALIDITY changed): counted already.
                msg.state, msg.outcome = MessageState.IGNORED, "seen"
                return msg.state
            decisions = [self._decide(s, parsed, d, msg.internaldate) for d in parsed.drafts]
            sources = {d.source for d in parsed.drafts}
            general = [p for p in parsed.problems if p.source not in sources]
            publicist = self.directory.publicist(parsed.from_addr)
            if publicist is None:
                general.append(problem(Code.UNKNOWN_SENDER, name=parsed.from_addr))
            subs = [self._insert(s, msg, parsed, d, now) for d in decisions]
            for p in general:
                s.add(
                    ProblemRecord(
                        message_row_id=msg.id, code=p.code.value, message=p.message, source=p.source
                    )
                )
            msg.outcome = _outcome(publicist is not None, [d.status for d in decisions])
            # The guard stopped this parse: the sender is answered, the office looks at it.
            quarantine = not parsed.complete
            msg.state = (
                MessageState.QUARANTINED
                if quarantine
                else MessageState.RECORDED
                if msg.outcome in ("accepted", "duplicate", "unverified")
                else MessageState.REJECTED
            )
            s.flush()
            if not self.quiet:
                replies.answer(
                    s, self.config, msg, parsed, list(zip(decisions, subs, strict=True)), general, now=now
                )
            if quarantine and not self.quiet:
                replies.alert_quarantine(s, self.config, msg, general, now=now)
            return msg.state

    def _seen_before(self, s: Session, msg: Message) -> bool:
        stmt = select(Message.id).where(
            Message.sha256 == msg.sha256,
            Message.id != msg.id,
            col(Message.state).not_in([MessageState.FETCHED, MessageState.POISON]),
        )
        return s.exec(stmt).first() is not None

    def _decide(self, s: Session, parsed: ParsedMessage, draft: Draft, received: datetime) -> DraftDecision:
        problems = [p for p in parsed.problems if p.source == draft.source]
        publicist = self.directory.publicist(parsed.from_addr)
        sender_unit = ledger.unit_by_name_or_alias(s, publicist.unit) if publicist else None
        authors: list[tuple[str, str, Unit | None]] = []
        for a in draft.signoff.authors:
            unit = self._unit(s, a.unit) if a.unit else sender_unit
            if a.unit and unit is None:
                problems.append(problem(Code.UNKNOWN_UNIT, source=draft.source, name=a.unit))
            authors.append((a.name, a.unit or "", unit))
        category = next((c for tag, c in CATEGORY_TAGS.items() if f"【{tag}】" in parsed.subject), "regular")
        if category != "regular" and draft.chars < MIN_ARTICLE_CHARS:
            problems.append(
                problem(
                    Code.TOO_SHORT,
                    source=draft.source,
                    name=draft.title,
                    detail=f"{draft.chars} 字，不足 2000 字",
                )
            )
        unit = sender_unit
        if publicist is None:
            status = SubmissionStatus.UNVERIFIED
        elif any(p.blocking for p in problems):
            status = SubmissionStatus.REJECTED
        elif ledger.find_duplicate(s, unit.id if unit else None, draft.text_hash) is not None:
            status = SubmissionStatus.DUPLICATE
            problems.append(problem(Code.DUPLICATE, source=draft.source, name=draft.title))
        else:
            status = SubmissionStatus.ACCEPTED
        replaces = None
        if status == SubmissionStatus.ACCEPTED and unit is not None:
            replaces = replies.rejected_in_thread(s, parsed, unit) or ledger.find_rejected_to_replace(
                s, unit.id, draft.title, received - RESUBMISSION_WINDOW
            )
        return DraftDecision(draft, status, tuple(problems), unit, tuple(authors), category, replaces)

    def _unit(self, s: Session, written: str) -> Unit | None:
        configured = self.directory.resolve_unit(written)
        return ledger.unit_by_name_or_alias(s, configured.name) if configured else None

    def _insert(
        self, s: Session, msg: Message, parsed: ParsedMessage, d: DraftDecision, now: datetime
    ) -> Submission:
        draft = d.draft
        assert msg.id is not None
        sub = Submission(
            message_row_id=msg.id,
            unit_id=d.unit.id if d.unit else None,
            sender=parsed.from_addr,
            title=draft.title[:1000],
            text_hash=draft.text_hash,
            chars=draft.chars,
            images=draft.images,
            first_reviewer=draft.signoff.first_reviewer,
            second_reviewer=draft.signoff.second_reviewer,
            status=d.status,
            category=d.category,
            source=draft.source[:1000],
            received_at=msg.internaldate,
            replaces_id=d.replaces.id if d.replaces else None,
            created_at=now,
        )
        s.add(sub)
        s.flush()
        assert sub.id is not None
        if d.replaces is not None:
            d.replaces.status = SubmissionStatus.REPLACED
        for i, (name, unit_text, unit) in enumerate(d.authors):
            person = _person(s, name, unit.id) if unit and unit.id else None
            s.add(
                SubmissionAuthor(
                    submission_id=sub.id,
                    position=i,
                    person_id=person.id if person else None,
                    name=name,
                    unit_text=unit_text,
                    unit_id=unit.id if unit else None,
                )
            )
        for p in d.problems:
            s.add(
                ProblemRecord(
                    message_row_id=msg.id,
                    submission_id=sub.id,
                    code=p.code.value,
                    message=p.message,
                    source=p.source,
                )
            )
        return sub


def _outcome(verified: bool, statuses: list[SubmissionStatus]) -> str:
    if not verified:
        return "unverified"
    if SubmissionStatus.ACCEPTED in statuses:
        return "accepted"
    if statuses and all(st == SubmissionStatus.DUPLICATE for st in statuses):
        return "duplicate"
    return "rejected"


def _person(s: Session, name: str, unit_id: int) -> Person:
    """The author as a person of their unit, created on first mention."""
    person = s.exec(select(Person).where(Person.name == name, Person.unit_id == unit_id)).first()
    if person is None:
        person = Person(name=name, unit_id=unit_id)
        s.add(person)
        s.flush()
    return person


def is_own(config: Config, address: str) -> bool:
    """Mail from our own mailbox (a bounced receipt) or from nobody is never answered."""
    own = {config.mailbox.user.lower(), config.smtp.user.lower()}
    return address.lower() in own or not address
