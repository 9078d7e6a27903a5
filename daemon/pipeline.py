"""The per-message pipeline: store the raw bytes, then parse, identify, record and reply at once.

Stages, in order (DESIGN.md "Message lifecycle"): daemon.intake has written the raw mail durably
and a `fetched` row; here the stored bytes are parsed and, in ONE transaction, the
submissions, problems and outbox rows and moves the row to `recorded`, `rejected` or `ignored`.
The server is told only afterwards (daemon.poller). Attempts are counted before the work, so a
message that crashes the process is marked `poison` after `max_attempts`, never retried forever.
Mail from the office's own address goes to daemon.office_mail (commands, never a receipt).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from daemon import columns_io, ledger, notice_reply, office_mail, replies, scoring_io, solicitations
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
from parsers.authresults import Verdict
from parsers.types import Code, Draft, ParsedMessage, Problem, problem

log = logging.getLogger(__name__)

RESUBMISSION_WINDOW = timedelta(days=7)
_HELD = "的身份未能通过邮件服务商验证，可能是他人冒用该邮箱，稿件暂不计数，待局办公室核实"
# Run for every message, so built once (see daemon.ledger): the same bytes recorded before, and an
# author's person row.
_SEEN_BEFORE = select(Message.id).where(
    Message.sha256 == sa.bindparam("sha256"),
    Message.id != sa.bindparam("row_id"),
    col(Message.state).not_in([MessageState.FETCHED, MessageState.POISON]),
)
_PERSON = select(Person).where(Person.name == sa.bindparam("name"), Person.unit_id == sa.bindparam("unit_id"))


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
    column: str | None = None  # the column (栏目) it is filed under, named in the receipt


class RetryLaterError(Exception):
    """A transient failure (DNS for DKIM): the message stays `fetched` for the next pass."""


@dataclass(frozen=True)
class Analysis:
    """What is known about a message before recording: its parse and, for known senders, the verdict."""

    parsed: ParsedMessage
    verdict: Verdict | None = None


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
        verify: Callable[[bytes, str], Verdict] | None = None,
    ) -> None:
        # `verify(raw, from_addr)`: whether a registered sender's From is genuine (daemon.verify).
        self.verify = verify
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
        sha = self.claim_many([row_id]).get(row_id)
        return self.store.get(sha) if sha is not None else None

    def claim_many(self, row_ids: Sequence[int]) -> dict[int, str]:
        """Count an attempt for each row still `fetched`, in ONE commit before any of them is
        parsed; return the digests of the raw mail of those claimed, by row id, in order. A row out of
        attempts becomes `poison` instead."""
        claimed: dict[int, str] = {}
        now = self.clock()
        with session(self.engine) as s:
            for msg in s.exec(select(Message).where(col(Message.id).in_(row_ids))).all():
                if msg.id is None or msg.state != MessageState.FETCHED:
                    continue
                if msg.attempts >= self.max_attempts:
                    msg.state = MessageState.POISON
                    msg.updated_at = now
                    replies.alert_poison(s, self.config, msg, now=now)
                    log.error(
                        "message %s (uid %s) is poison after %d attempts: %s",
                        msg.id,
                        msg.uid,
                        msg.attempts,
                        msg.last_error,
                    )
                    continue
                msg.attempts += 1
                msg.updated_at = now
                claimed[msg.id] = msg.sha256
        failpoint("attempt_counted")
        return {i: claimed[i] for i in row_ids if i in claimed}

    def analyse(self, raw: bytes) -> Analysis:
        """Parse (in a guard worker) and, for publicists and the office, verify the sender.

        Thread-safe: the poller runs several at once to keep both cores and DNS busy.
        """
        parsed = self.parse(raw)
        known = self.directory.publicist(parsed.from_addr) is not None or self._office(parsed.from_addr)
        if self.verify is None or not known or parsed.auto_reply:
            return Analysis(parsed)
        return Analysis(parsed, self.verify(raw, parsed.from_addr))

    def _office(self, address: str) -> bool:
        return address.lower() in {e.lower() for e in self.config.office.emails}

    def fail(self, row_id: int, error: str, *, s: Session | None = None) -> None:
        """Remember why an attempt failed; the next pass retries until max_attempts."""
        if s is None:
            with session(self.engine) as own:
                self._fail(own, row_id, error)
        else:
            self._fail(s, row_id, error)

    def _fail(self, s: Session, row_id: int, error: str) -> None:
        msg = s.get(Message, row_id)
        if msg is not None:
            msg.last_error = error[:2000]
            msg.updated_at = self.clock()

    def record(
        self, row_id: int, parsed: ParsedMessage, verdict: Verdict | None = None, *, s: Session | None = None
    ) -> MessageState | None:
        """Write everything the message causes, in one transaction, and return its new state.

        Given `s`, the open session of a group the poller commits as one, the message gets a
        savepoint of its own instead: its failure undoes only its own writes.
        """
        failpoint("parsed")
        if s is None:
            with session(self.engine) as own:
                return self._record(own, row_id, parsed, verdict)
        with s.begin_nested():
            return self._record(s, row_id, parsed, verdict)

    def _record(
        self, s: Session, row_id: int, parsed: ParsedMessage, verdict: Verdict | None
    ) -> MessageState | None:
        now = self.clock()
        msg = s.get(Message, row_id)
        if msg is None or msg.id is None or msg.state != MessageState.FETCHED:
            return None
        if verdict is not None and verdict.temporary and msg.attempts < self.max_attempts:
            raise RetryLaterError(f"sender check for {parsed.from_addr} inconclusive: {verdict.reason}")
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
        if self._office(parsed.from_addr) and self.directory.publicist(parsed.from_addr) is None:
            return office_mail.handle(s, self.config, msg, parsed, verdict, now=now, quiet=self.quiet)
        held = self._held(parsed, verdict)
        # A publicist asking "明细" in reply to the notice gets the unit's lines, nothing else.
        if (
            not held
            and not self.quiet
            and parsed.complete
            and notice_reply.answer_details(s, self.config, parsed, now=now, cause_message_row_id=msg.id)
        ):
            msg.state, msg.outcome = MessageState.RECORDED, "details"
            return msg.state
        # Deciding reads only, and nothing it reads is pending in this session (the drafts are
        # inserted after): the headers set above go out with the state, in one UPDATE.
        with s.no_autoflush:
            earlier, subject = self._corrects(s, parsed)
            decisions = [
                self._decide(s, parsed, d, msg.internaldate, earlier, subject, held=held)
                for d in parsed.drafts
            ]
        sources = {d.source for d in parsed.drafts}
        general = [p for p in parsed.problems if p.source not in sources]
        publicist = None if held else self.directory.publicist(parsed.from_addr)
        if held:
            assert verdict is not None
            log.warning("mail from publicist %s not verified (%s): held", parsed.from_addr, verdict.reason)
            general.append(Problem(Code.UNKNOWN_SENDER, f"发件人“{parsed.from_addr}”{_HELD}"))
        elif publicist is None:
            general.append(problem(Code.UNKNOWN_SENDER, name=parsed.from_addr))
        msg.outcome = "held" if held else _outcome(publicist is not None, [d.status for d in decisions])
        # The guard stopped this parse: the sender is answered, the office looks at it.
        quarantine = not parsed.complete
        msg.state = (
            MessageState.QUARANTINED
            if quarantine
            else MessageState.RECORDED
            if msg.outcome in ("accepted", "duplicate", "unverified", "held")
            else MessageState.REJECTED
        )
        subs = [self._insert(s, msg, parsed, d, now) for d in decisions]
        # A draft answering a solicitation (约稿): 【约稿】+topic in the subject, or a reply to its notice.
        solicitations.link_responses(s, parsed, subs, now=now, subject=subject)
        for p in general:
            s.add(ProblemRecord(message_row_id=msg.id, code=p.code.value, message=p.message, source=p.source))
        s.flush()
        if not self.quiet:
            replies.answer(
                s, self.config, msg, parsed, list(zip(decisions, subs, strict=True)), general, now=now
            )
        if quarantine and not self.quiet:
            replies.alert_quarantine(s, self.config, msg, general, now=now)
        return msg.state

    def _seen_before(self, s: Session, msg: Message) -> bool:
        with s.no_autoflush:  # the headers just set on `msg` are not what this reads
            return s.exec(_SEEN_BEFORE, params={"sha256": msg.sha256, "row_id": msg.id}).first() is not None

    def _held(self, parsed: ParsedMessage, verdict: Verdict | None) -> bool:
        """A registered publicist's address whose mail could not be shown to be genuine."""
        return (
            verdict is not None
            and not verdict.verified
            and self.config.verify.require_verified_publicists
            and self.directory.publicist(parsed.from_addr) is not None
        )

    def _corrects(self, s: Session, parsed: ParsedMessage) -> tuple[Submission | None, str]:
        """The rejected draft this mail corrects in reply to its rejection (“回复：【需修改】…”), if
        any, and the subject to read tags (【调研】, a column, 【约稿】) from: the mail's own, followed
        by that of the mail it corrects, whose tags the reply's subject no longer carries."""
        publicist = self.directory.publicist(parsed.from_addr)
        unit = ledger.active_units(s).find(publicist.unit) if publicist else None
        earlier = replies.rejected_in_thread(s, parsed, unit) if unit is not None else None
        first = s.get(Message, earlier.message_row_id) if earlier is not None else None
        return earlier, f"{parsed.subject} {first.subject or ''}" if first is not None else parsed.subject

    def _decide(
        self,
        s: Session,
        parsed: ParsedMessage,
        draft: Draft,
        received: datetime,
        earlier: Submission | None,
        subject: str,
        *,
        held: bool = False,
    ) -> DraftDecision:
        problems = [p for p in parsed.problems if p.source == draft.source]
        publicist = self.directory.publicist(parsed.from_addr)
        sender_unit = ledger.active_units(s).find(publicist.unit) if publicist else None
        authors: list[tuple[str, str, Unit | None]] = []
        for a in draft.signoff.authors:
            unit = self._unit(s, a.unit) if a.unit else sender_unit
            if a.unit and unit is None:
                problems.append(problem(Code.UNKNOWN_UNIT, source=draft.source, name=a.unit))
            authors.append((a.name, a.unit or "", unit))
        # Subject tags of the annual articles (【调研】, 【经验】) and their length, from the profile.
        articles = scoring_io.articles(self.config, received, sender_unit.group if sender_unit else "")
        article = next((a for a in articles if f"【{a.tag}】" in subject), None)
        # A column (栏目) by 【栏目名】 or a “栏目：” line; it takes the place of an article tag.
        columns = columns_io.columns_at(self.config, received, sender_unit.group if sender_unit else "")
        column, column_problem = columns_io.file_under(
            columns, subject=subject, body=draft.body, source=draft.source
        )
        if column is not None or column_problem is not None:
            article = None
        if column_problem is not None:
            problems.append(column_problem)
        category = column or (article.category if article is not None else "regular")
        if article is not None and draft.chars < article.min_chars:
            problems.append(
                problem(
                    Code.TOO_SHORT,
                    source=draft.source,
                    name=draft.title,
                    detail=f"{draft.chars} 字，不足 {article.min_chars} 字",
                )
            )
        unit = sender_unit
        if publicist is None or held:
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
            replaces = earlier or ledger.find_rejected_to_replace(
                s, unit.id, draft.title, received - RESUBMISSION_WINDOW
            )
        return DraftDecision(
            draft, status, tuple(problems), unit, tuple(authors), category, replaces, column=column
        )

    def _unit(self, s: Session, written: str) -> Unit | None:
        configured = self.directory.resolve_unit(written)
        return ledger.active_units(s).find(configured.name) if configured else None

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
    person = s.exec(_PERSON, params={"name": name, "unit_id": unit_id}).first()
    if person is None:
        person = Person(name=name, unit_id=unit_id)
        s.add(person)
        s.flush()
    return person


def is_own(config: Config, address: str) -> bool:
    """Mail from our own mailbox (a bounced receipt) or from nobody is never answered."""
    own = {config.mailbox.user.lower(), config.smtp.user.lower()}
    return address.lower() in own or not address
