"""The IMAP edge against a real Dovecot on loopback, directly and behind a 163-like proxy."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from imapclient import IMAPClient

from daemon import mailbox as mailbox_module
from daemon.config import MailboxConfig
from daemon.mailbox import Fetched, Mailbox, MailboxError
from tests.dovecot import Account, DovecotServer, dovecot_fixture, dovecot_server_fixture  # noqa: F401
from tests.imap163 import Imap163Proxy, imap163_fixture  # noqa: F401

SHANGHAI = timezone(timedelta(hours=8))
RECEIVED = datetime(2025, 6, 20, 9, 30, tzinfo=SHANGHAI)
MakeMailbox = Callable[..., Mailbox]


def draft_mail(n: int, *, attachment: int = 0) -> bytes:
    """A publicist's submission; the body holds lines that look like IMAP responses on purpose."""
    msg = EmailMessage()
    msg["From"] = f"publicist{n}@163.com"
    msg["To"] = "pjyjjbgs@163.com"
    msg["Subject"] = f"危化科报送稿件 {n}"
    msg["Message-ID"] = f"<draft{n}@163.com>"
    msg.set_content(
        "各位领导：附件为本周稿件。\n* CAPABILITY IMAP4rev1 IDLE MOVE\n* OK [UIDNEXT 9] Predicted\n{12}\n"
    )
    if attachment:
        msg.add_attachment(os.urandom(attachment), maintype="application", subtype="zip", filename="稿件.zip")
    return msg.as_bytes(policy=SMTP)


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@pytest.fixture
def make_mailbox(dovecot: Account) -> Iterator[MakeMailbox]:
    """Mailboxes for the test's account, on a given port, closed at teardown."""
    opened: list[Mailbox] = []

    def make(
        port: int, *, connect: Callable[..., IMAPClient] | None = None, password: str = "", **settings: object
    ) -> Mailbox:
        fields: dict[str, object] = {"host": "127.0.0.1", "port": port, "tls": False, "timeout_seconds": 10}
        cfg = MailboxConfig(**{**fields, "user": dovecot.user, **settings})  # type: ignore[arg-type]
        mailbox = Mailbox(cfg, password=password or dovecot.password, connect=connect)
        opened.append(mailbox)
        return mailbox

    yield make
    for mailbox in opened:
        mailbox.close()


@pytest.mark.dovecot
def test_163_refuses_select_without_id(
    dovecot: Account, imap163: Imap163Proxy, make_mailbox: MakeMailbox
) -> None:
    """A bureau that turned send_id off is told 163 calls the login unsafe, and no retry follows."""
    mailbox = make_mailbox(imap163.port, send_id=False)
    with pytest.raises(MailboxError, match="Unsafe Login") as caught:
        mailbox.open()
    assert caught.value.retryable is False
    assert "ID" not in imap163.commands


@pytest.mark.dovecot
def test_163_opens_after_id(dovecot: Account, imap163: Imap163Proxy, make_mailbox: MakeMailbox) -> None:
    """With the RFC 2971 ID sent right after LOGIN, 163 lets the INBOX be selected."""
    mailbox = make_mailbox(imap163.port)
    uidvalidity = mailbox.open()
    assert uidvalidity == dovecot.client().select_folder("INBOX", readonly=True)[b"UIDVALIDITY"]
    assert imap163.commands == ["CAPABILITY", "LOGIN", "ID", "SELECT"]


@pytest.mark.dovecot
def test_id_is_skipped_when_the_server_does_not_advertise_it(
    dovecot_server: DovecotServer,
    make_mailbox: MakeMailbox,
) -> None:
    """A server without ID in CAPABILITY is not sent the command, and SELECT still works."""
    with Imap163Proxy(
        upstream_port=dovecot_server.port,
        strip=frozenset({"IDLE", "MOVE", "ID"}),
        require_id=False,
    ) as proxy:
        make_mailbox(proxy.port).open()
        assert "ID" not in proxy.commands
        assert "SELECT" in proxy.commands


@pytest.mark.dovecot
def test_the_uid_cursor_survives_the_star_quirk(
    dovecot: Account,
    imap163: Imap163Proxy,
    make_mailbox: MakeMailbox,
) -> None:
    """Two drafts arrive; asking again past the last UID finds nothing, though "3:*" matches UID 2."""
    first = dovecot.append(draft_mail(1), internaldate=RECEIVED)
    second = dovecot.append(draft_mail(2), internaldate=RECEIVED + timedelta(minutes=5))
    mailbox = make_mailbox(imap163.port)
    mailbox.open()
    refs = mailbox.new_messages(0)
    assert [r.uid for r in refs] == [first, second]
    assert refs[0].size == len(draft_mail(1))
    assert refs[1].internaldate == RECEIVED + timedelta(minutes=5)
    assert refs[1].internaldate.tzinfo is not None
    # RFC 3501: "*" is the highest UID in use, so the server does answer the past-the-end range.
    dovecot.client().select_folder("INBOX", readonly=True)
    assert dovecot.client().search(["UID", f"{second + 1}:*"]) == [second]
    assert mailbox.new_messages(second) == []
    assert [r.uid for r in mailbox.new_messages(first)] == [second]


@pytest.mark.dovecot
def test_fetch_returns_exact_bytes_in_batches_and_leaves_mail_unread(
    dovecot: Account,
    imap163: Imap163Proxy,
    make_mailbox: MakeMailbox,
) -> None:
    """A 2 MB zip and four small drafts come back byte for byte, three FETCHes of two, none \\Seen."""
    raws = [draft_mail(0, attachment=1_500_000)] + [draft_mail(n) for n in range(1, 5)]
    assert len(raws[0]) > 2_000_000
    uids = [dovecot.append(raw, internaldate=RECEIVED) for raw in raws]
    mailbox = make_mailbox(imap163.port, batch_size=2)
    mailbox.open()
    refs = mailbox.new_messages(0)
    imap163.commands.clear()
    fetched = list(mailbox.fetch([r.uid for r in refs]))
    assert [f.uid for f in fetched] == uids
    assert [sha(f.raw) for f in fetched] == [sha(raw) for raw in raws]
    assert {f.internaldate for f in fetched} == {RECEIVED}
    assert imap163.commands == ["UID FETCH"] * 3
    for uid in uids:
        assert b"\\Seen" not in dovecot.flags(uid)


@pytest.mark.dovecot
def test_a_batch_of_large_photo_mails_is_split_by_bytes(
    dovecot: Account,
    imap163: Imap163Proxy,
    make_mailbox: MakeMailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two 1.5 MB photo mails then four small drafts under a 2 MB batch budget: the two big ones
    never share a FETCH (the daemon never holds a batch of twenty 40 MB mails); the small ones fill
    up the second batch."""
    monkeypatch.setattr(mailbox_module, "BATCH_BYTES", 2_000_000)
    raws = [draft_mail(n, attachment=1_100_000) for n in range(2)] + [draft_mail(n) for n in range(2, 6)]
    uids = [dovecot.append(raw, internaldate=RECEIVED) for raw in raws]
    mailbox = make_mailbox(imap163.port, batch_size=20)
    mailbox.open()
    refs = mailbox.new_messages(0)
    imap163.commands.clear()
    batches = list(mailbox.fetch_batches(refs))
    assert [[f.uid for f in b] for b in batches] == [uids[:1], uids[1:]]
    assert [sha(f.raw) for b in batches for f in b] == [sha(raw) for raw in raws]
    assert imap163.commands == ["UID FETCH"] * 2


@pytest.mark.dovecot
def test_headers_of_oversized_mail_come_alone(
    dovecot: Account,
    imap163: Imap163Proxy,
    make_mailbox: MakeMailbox,
) -> None:
    """A 3 MB mail over the limit: only its header is read, to answer the sender, and it stays unread."""
    raw = draft_mail(1, attachment=2_300_000)
    uid = dovecot.append(raw)
    mailbox = make_mailbox(imap163.port)
    mailbox.open()
    heads = mailbox.fetch_headers([uid])
    assert heads == {uid: raw[: raw.index(b"\r\n\r\n") + 4]}
    assert b"\\Seen" not in dovecot.flags(uid)


@pytest.mark.dovecot
def test_flag_mode_marks_the_keyword_and_seen(
    dovecot: Account,
    imap163: Imap163Proxy,
    make_mailbox: MakeMailbox,
) -> None:
    """A recorded draft gets XinbaoDone and \\Seen; the draft not yet recorded keeps its flags."""
    done, waiting = dovecot.append(draft_mail(1)), dovecot.append(draft_mail(2))
    mailbox = make_mailbox(imap163.port)
    mailbox.open()
    mailbox.acknowledge([done])
    assert {b"XinbaoDone", b"\\Seen"} <= dovecot.flags(done)
    assert not {b"XinbaoDone", b"\\Seen"} & dovecot.flags(waiting)
    assert mailbox.is_done(done)
    assert not mailbox.is_done(waiting)


@pytest.mark.dovecot
def test_move_mode_without_move_copies_and_expunges_only_its_own(
    dovecot: Account,
    imap163: Imap163Proxy,
    make_mailbox: MakeMailbox,
) -> None:
    """On 163 (no MOVE) a draft goes to 已处理 by COPY, \\Deleted, UID EXPUNGE; the office's own
    \\Deleted message stays in the INBOX."""
    done = dovecot.append(draft_mail(1))
    waiting = dovecot.append(draft_mail(2))
    trashed = dovecot.append(draft_mail(3), flags=[b"\\Deleted"])
    mailbox = make_mailbox(imap163.port, mark="move")
    mailbox.open()
    mailbox.acknowledge([done])
    assert "UID COPY" in imap163.commands
    assert "UID EXPUNGE" in imap163.commands
    assert "EXPUNGE" not in imap163.commands
    assert "UID MOVE" not in imap163.commands
    assert set(dovecot.messages()) == {waiting, trashed}
    assert b"\\Deleted" in dovecot.flags(trashed)
    assert list(dovecot.messages("已处理").values()) == [draft_mail(1)]
    assert mailbox.is_done(done)


@pytest.mark.dovecot
def test_move_mode_uses_move_where_advertised(
    dovecot: Account,
    dovecot_server: DovecotServer,
    make_mailbox: MakeMailbox,
) -> None:
    """A server with RFC 6851 MOVE gets one UID MOVE into the existing done folder."""
    dovecot.client().create_folder("已处理")
    uids = [dovecot.append(draft_mail(n)) for n in range(3)]
    with Imap163Proxy(upstream_port=dovecot_server.port, strip=frozenset()) as proxy:
        mailbox = make_mailbox(proxy.port, mark="move")
        mailbox.open()
        mailbox.acknowledge(uids[:2])
        assert "UID MOVE" in proxy.commands
        assert "UID COPY" not in proxy.commands
        assert "CREATE" not in proxy.commands
    assert list(dovecot.messages()) == [uids[2]]
    assert sorted(dovecot.messages("已处理").values()) == sorted([draft_mail(0), draft_mail(1)])


@pytest.mark.dovecot
def test_move_mode_without_uidplus_never_expunges(
    dovecot: Account,
    dovecot_server: DovecotServer,
    make_mailbox: MakeMailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without UIDPLUS a plain EXPUNGE would take the office's \\Deleted mail too: it is skipped."""
    done = dovecot.append(draft_mail(1))
    trashed = dovecot.append(draft_mail(2), flags=[b"\\Deleted"])
    strip = frozenset({"IDLE", "MOVE", "UIDPLUS"})
    with Imap163Proxy(upstream_port=dovecot_server.port, strip=strip) as proxy:
        mailbox = make_mailbox(proxy.port, mark="move")
        mailbox.open()
        with caplog.at_level(logging.WARNING, logger="daemon.mailbox"):
            mailbox.acknowledge([done])
        assert not {"EXPUNGE", "UID EXPUNGE"} & set(proxy.commands)
    assert "lacks UIDPLUS" in caplog.text
    assert set(dovecot.messages()) == {done, trashed}
    assert b"\\Deleted" in dovecot.flags(done)
    assert list(dovecot.messages("已处理").values()) == [draft_mail(1)]


@pytest.mark.dovecot
def test_open_reports_a_new_uidvalidity_when_the_folder_is_recreated(
    dovecot: Account,
    make_mailbox: MakeMailbox,
) -> None:
    """The office deletes and recreates the 报送 folder: open() reports the server's new UIDVALIDITY."""
    admin = dovecot.client()
    admin.create_folder("报送")
    mailbox = make_mailbox(dovecot.port, folder="报送")
    before = mailbox.open()
    assert before == admin.folder_status("报送", ["UIDVALIDITY"])[b"UIDVALIDITY"]
    mailbox.close()
    admin.delete_folder("报送")
    admin.create_folder("报送")
    after = mailbox.open()
    assert after == admin.folder_status("报送", ["UIDVALIDITY"])[b"UIDVALIDITY"]
    assert after != before


@pytest.mark.dovecot
def test_a_reset_mid_fetch_loses_no_bytes(
    dovecot: Account,
    imap163: Imap163Proxy,
    make_mailbox: MakeMailbox,
) -> None:
    """The line drops inside the second 300 kB draft: the first arrives whole, the second raises,
    and after a reconnect it is fetched whole."""
    raws = [draft_mail(n, attachment=300_000) for n in range(2)]
    uids = [dovecot.append(raw) for raw in raws]
    mailbox = make_mailbox(imap163.port, batch_size=1)
    mailbox.open()
    imap163.faults.reset_after_fetch_bytes = len(raws[0]) + 100_000
    got: list[Fetched] = []
    with pytest.raises(MailboxError, match="UID FETCH failed"):
        got.extend(mailbox.fetch(uids))
    assert [(f.uid, sha(f.raw)) for f in got] == [(uids[0], sha(raws[0]))]
    mailbox.ensure_open(attempts=2, base_delay=0)
    assert [sha(f.raw) for f in mailbox.fetch(uids[1:])] == [sha(raws[1])]


@pytest.mark.dovecot
def test_an_unsolicited_bye_becomes_a_mailbox_error(
    dovecot: Account,
    imap163: Imap163Proxy,
    make_mailbox: MakeMailbox,
) -> None:
    """163 hangs up with * BYE during a poll; the daemon sees a MailboxError and reconnects."""
    uid = dovecot.append(draft_mail(1))
    mailbox = make_mailbox(imap163.port)
    mailbox.open()
    imap163.faults.bye_on_command = "UID SEARCH"
    with pytest.raises(MailboxError, match="UID SEARCH failed"):
        mailbox.new_messages(0)
    mailbox.ensure_open(attempts=2, base_delay=0)
    assert [r.uid for r in mailbox.new_messages(0)] == [uid]


@pytest.mark.dovecot
def test_without_idle_the_wait_is_a_plain_poll(
    dovecot: Account,
    imap163: Imap163Proxy,
    make_mailbox: MakeMailbox,
) -> None:
    """163 has no IDLE: the daemon waits, never sends IDLE, and the next poll finds new mail."""
    mailbox = make_mailbox(imap163.port)
    mailbox.open()
    mailbox.idle_or_sleep(0.2, threading.Event())
    uid = dovecot.append(draft_mail(1))
    assert [r.uid for r in mailbox.new_messages(0)] == [uid]
    assert "IDLE" not in imap163.commands


@pytest.mark.dovecot
def test_idle_wakes_on_new_mail_and_the_connection_stays_usable(
    dovecot: Account,
    make_mailbox: MakeMailbox,
) -> None:
    """Dovecot advertises IDLE: a minute's wait ends when a draft arrives, then the poll finds it."""
    mailbox = make_mailbox(dovecot.port)
    mailbox.open()
    stop = threading.Event()
    waiter = threading.Thread(target=mailbox.idle_or_sleep, args=(60, stop))
    waiter.start()
    uid = dovecot.append(draft_mail(1))
    waiter.join(timeout=30)
    woke = not waiter.is_alive()
    stop.set()  # ends a wait that missed the news, so the test fails rather than hangs
    waiter.join()
    assert woke, "IDLE kept waiting after the draft arrived"
    assert [r.uid for r in mailbox.new_messages(0)] == [uid]


@pytest.mark.dovecot
@pytest.mark.timeout(60)
def test_stop_ends_an_idle_wait(dovecot: Account, make_mailbox: MakeMailbox) -> None:
    """SIGTERM during IDLE: the stop event ends the wait, IDLE is closed with DONE, the link is fine."""
    mailbox = make_mailbox(dovecot.port)
    mailbox.open()
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    mailbox.idle_or_sleep(600, stop)
    assert mailbox.new_messages(0) == []


@pytest.mark.dovecot
def test_implicit_tls_verifies_the_certificate(dovecot: Account, make_mailbox: MakeMailbox) -> None:
    """Port 993 style: TLS from the first byte, and a certificate nobody vouches for is refused."""
    if dovecot.server.cert is None:
        pytest.skip("the openssl CLI is absent, so the test Dovecot has no TLS listener")
    trusted = ssl.create_default_context(cafile=str(dovecot.server.cert))
    connect = functools.partial(IMAPClient, ssl_context=trusted)
    assert make_mailbox(dovecot.tls_port, tls=True, connect=connect).open() > 0
    with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
        make_mailbox(dovecot.tls_port, tls=True).open()


@pytest.mark.dovecot
def test_a_refused_login_is_not_retried(dovecot: Account, make_mailbox: MakeMailbox) -> None:
    """A web password instead of the 授权码: one refusal, no hammering of the account."""
    sleeps: list[float] = []
    mailbox = make_mailbox(dovecot.port, password="web-password")
    mailbox._sleep = sleeps.append
    with pytest.raises(MailboxError, match="授权码") as caught:
        mailbox.ensure_open()
    assert caught.value.retryable is False
    assert sleeps == []


def test_reconnect_backs_off_exponentially_up_to_the_cap() -> None:
    """The mailbox host is down: waits of 1, 2, 4, then the 5 s cap, then the error surfaces."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        sleeps: list[float] = []
        cfg = MailboxConfig(host="127.0.0.1", port=port, tls=False, user="office@163.com", timeout_seconds=5)
        mailbox = Mailbox(cfg, password="x", sleep=sleeps.append)
        with pytest.raises(MailboxError, match="connect failed"):
            mailbox.ensure_open(attempts=5, base_delay=1, max_delay=5)
    assert sleeps == [1, 2, 4, 5]
