"""Ledger lookups the pipeline relies on, in the bureau's own situations, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from daemon import config, ledger
from daemon.db import session
from daemon.models import Message, MessageState, Person, PollState, Submission, SubmissionStatus, Unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 20, 9, 30, tzinfo=SHANGHAI)

UNITS = (
    config.Unit(name="危化科", group="department", aliases=("危险化学品安全监督管理科",)),
    config.Unit(name="盘山县应急管理局", group="county", aliases=("盘山县应急局",)),
    config.Unit(name="执法支队", group="department", aliases=("市应急管理综合行政执法支队（一大队）",)),
)
PUBLICISTS = (
    config.Publicist(unit="危化科", name="王强", email="WangQiang.WH@163.com", phone="13800000001"),
    config.Publicist(unit="盘山县应急管理局", name="李娜", email="lina.ps@163.com"),
)


def _synced(engine: Engine) -> dict[str, int]:
    with session(engine) as s:
        ledger.sync_units(s, UNITS, PUBLICISTS)
        return {u.name: u.id for u in s.exec(select(Unit)) if u.id is not None}


def _message(s: Session, uid: int, sha: str = "ab" * 32) -> int:
    msg = Message(
        account="pjyjjbgs@163.com",
        folder="INBOX",
        uidvalidity=1,
        uid=uid,
        sha256=sha,
        size=100,
        internaldate=NOW,
        state=MessageState.RECORDED,
        created_at=NOW,
        updated_at=NOW,
    )
    s.add(msg)
    s.flush()
    assert msg.id is not None
    return msg.id


def _submission(
    s: Session,
    unit_id: int | None,
    *,
    title: str = "我局开展汛期安全检查",
    text_hash: str = "cd" * 32,
    status: SubmissionStatus = SubmissionStatus.ACCEPTED,
    received_at: datetime = NOW,
) -> Submission:
    sub = Submission(
        message_row_id=_message(s, uid=len(s.exec(select(Message)).all()) + 1),
        unit_id=unit_id,
        sender="wangqiang.wh@163.com",
        title=title,
        text_hash=text_hash,
        chars=812,
        status=status,
        source="稿件.zip/标题.docx",
        received_at=received_at,
        created_at=received_at,
    )
    s.add(sub)
    s.flush()
    return sub


def test_sync_loads_units_and_publicists_from_config(engine: Engine) -> None:
    """The Panjin config's units and publicists land in the ledger, with groups and aliases."""
    ids = _synced(engine)
    with session(engine) as s:
        unit = s.get(Unit, ids["危化科"])
        assert unit is not None
        assert (unit.group, unit.aliases, unit.active) == ("department", ["危险化学品安全监督管理科"], True)
        people = {p.name: p for p in s.exec(select(Person))}
        assert people["王强"].unit_id == ids["危化科"]
        assert people["王强"].is_publicist
        assert people["王强"].phone == "13800000001"
        assert people["李娜"].unit_id == ids["盘山县应急管理局"]


def test_a_unit_dropped_from_config_is_deactivated_never_deleted(engine: Engine) -> None:
    """Last year's submissions still point at a merged unit; it only stops being active."""
    ids = _synced(engine)
    renamed = (UNITS[0], config.Unit(name="盘山县应急管理局", group="county", aliases=("盘山县局",)))
    with session(engine) as s:
        ledger.sync_units(s, renamed, PUBLICISTS)
    with session(engine) as s:
        units = {u.name: u for u in s.exec(select(Unit))}
        assert {u.name: u.id for u in units.values()} == ids
        assert not units["执法支队"].active
        assert units["盘山县应急管理局"].aliases == ["盘山县局"]
        assert ledger.unit_by_name_or_alias(s, "执法支队") is None
        assert ledger.unit_by_name_or_alias(s, "执法支队", include_inactive=True) == units["执法支队"]


def test_a_replaced_publicist_no_longer_identifies_the_unit(engine: Engine) -> None:
    """When 危化科 names a new publicist, mail from the old one is no longer from a publicist."""
    _synced(engine)
    new = (config.Publicist(unit="危化科", name="赵敏", email="zhaomin@163.com"), PUBLICISTS[1])
    with session(engine) as s:
        ledger.sync_units(s, UNITS, new)
    with session(engine) as s:
        assert ledger.publicist_by_email(s, "wangqiang.wh@163.com") is None
        person = ledger.publicist_by_email(s, "zhaomin@163.com")
        assert person is not None
        assert person.name == "赵敏"
        # The old publicist stays a person of the unit: an author of past drafts.
        assert s.exec(select(Person).where(Person.name == "王强")).one().is_publicist is False
        assert len(s.exec(select(Person)).all()) == 3


def test_sync_twice_changes_nothing(engine: Engine) -> None:
    """The daemon syncs at every start; a second run adds no rows."""
    ids = _synced(engine)
    assert _synced(engine) == ids
    with session(engine) as s:
        assert len(s.exec(select(Person)).all()) == 2


def test_publicist_email_matches_whatever_the_case(engine: Engine) -> None:
    """163 addresses arrive in any case; config wrote WangQiang.WH@163.com."""
    _synced(engine)
    with session(engine) as s:
        for addr in ("wangqiang.wh@163.com", "WANGQIANG.WH@163.COM", " WangQiang.WH@163.com "):
            person = ledger.publicist_by_email(s, addr)
            assert person is not None
            assert person.name == "王强"
        assert ledger.publicist_by_email(s, "stranger@qq.com") is None


def test_a_unit_is_found_as_authors_write_it(engine: Engine) -> None:
    """Sign-offs write unit names with spaces, brackets of either width, or an alias."""
    written = {
        "危化科": "危化科",
        "危险化学品安全监督管理科": "危化科",
        " 危化科 ": "危化科",
        "危 化 科": "危化科",
        "【危化科】": "危化科",
        "盘山县应急局": "盘山县应急管理局",
        "（盘山县应急管理局）": "盘山县应急管理局",
        "市应急管理综合行政执法支队（一大队）": "执法支队",
        "市应急管理综合行政执法支队(一大队)": "执法支队",
        "市应急管理综合行政执法支队一大队": "执法支队",
        "大洼区应急管理局": None,
        "（）": None,
    }
    _synced(engine)
    with session(engine) as s:
        found = {text: ledger.unit_by_name_or_alias(s, text) for text in written}
    assert {text: u.name if u else None for text, u in found.items()} == written


def test_a_group_of_messages_reads_the_unit_list_once(engine: Engine) -> None:
    """Recording ten drafts in one transaction looks units up for each of them and their authors;
    the list is read once per transaction, and a unit renamed in config is seen by the next one."""
    _synced(engine)
    selects: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM units" in statement:
            selects.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with session(engine) as s:
            names = [ledger.active_units(s).find(text) for text in ("危化科", "盘山县应急局", "危 化 科")]
            assert [u.name if u else None for u in names] == ["危化科", "盘山县应急管理局", "危化科"]
            assert ledger.active_units(s).find("大洼区应急管理局") is None
        assert len(selects) == 1
        with session(engine) as s:
            ledger.sync_units(s, (*UNITS, config.Unit(name="大洼区应急管理局", group="county")), PUBLICISTS)
        with session(engine) as s:
            found = ledger.active_units(s).find("大洼区应急管理局")
            assert found is not None
            assert found.group == "county"
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_a_duplicate_is_an_accepted_draft_of_the_same_unit(engine: Engine) -> None:
    """The same text sent again by 危化科 is a duplicate; by another unit, or after a rejection, it is not."""
    ids = _synced(engine)
    with session(engine) as s:
        assert ledger.find_duplicate(s, ids["危化科"], "cd" * 32) is None
        _submission(s, ids["危化科"], status=SubmissionStatus.REJECTED, text_hash="ee" * 32)
        first = _submission(s, ids["危化科"])
        _submission(s, ids["危化科"], status=SubmissionStatus.DUPLICATE, received_at=NOW + timedelta(hours=1))
        assert ledger.find_duplicate(s, ids["危化科"], "cd" * 32) == first
        assert ledger.find_duplicate(s, ids["盘山县应急管理局"], "cd" * 32) is None
        assert ledger.find_duplicate(s, ids["危化科"], "ee" * 32) is None
        assert ledger.find_duplicate(s, None, "cd" * 32) is None


def test_a_corrected_draft_finds_the_rejected_one_it_replaces(engine: Engine) -> None:
    """危化科 resends 《我局开展汛期安全检查》 with the reviewer added; punctuation differs a little."""
    ids = _synced(engine)
    wh = ids["危化科"]
    since = NOW - timedelta(days=7)
    with session(engine) as s:
        _submission(s, wh, status=SubmissionStatus.REJECTED, received_at=since - timedelta(minutes=1))
        rejected = _submission(s, wh, title="我局开展“汛期”安全检查！", status=SubmissionStatus.REJECTED)
        _submission(
            s, ids["盘山县应急管理局"], status=SubmissionStatus.REJECTED, received_at=NOW + timedelta(1)
        )
        _submission(s, wh, status=SubmissionStatus.ACCEPTED, received_at=NOW + timedelta(hours=2))
        assert ledger.find_rejected_to_replace(s, wh, " 我局开展汛期安全检查 ", since) == rejected
        assert ledger.find_rejected_to_replace(s, wh, "我局开展防汛演练", since) is None
        assert ledger.find_rejected_to_replace(s, wh, "我局开展汛期安全检查", NOW + timedelta(1)) is None
        rejected.status = SubmissionStatus.REPLACED
        s.flush()
        assert ledger.find_rejected_to_replace(s, wh, "我局开展汛期安全检查", since) is None


def test_accepted_drafts_are_counted_by_received_instant(engine: Engine) -> None:
    """A week runs Monday 00:00 to Monday 00:00 Shanghai time; only accepted drafts count."""
    ids = _synced(engine)
    wh = ids["危化科"]
    start = datetime(2025, 6, 16, tzinfo=SHANGHAI)
    end = start + timedelta(days=7)
    with session(engine) as s:
        _submission(s, wh, received_at=start)
        _submission(s, wh, received_at=end - timedelta(seconds=1))
        _submission(s, wh, received_at=end)
        _submission(s, wh, received_at=start - timedelta(seconds=1))
        _submission(s, wh, status=SubmissionStatus.REJECTED)
        _submission(s, wh, status=SubmissionStatus.DUPLICATE)
        _submission(s, ids["盘山县应急管理局"])
        assert ledger.count_accepted(s, wh, start, end) == 2
        assert ledger.count_accepted(s, ids["执法支队"], start, end) == 0


def test_messages_are_found_by_uid_and_by_content(engine: Engine) -> None:
    """A UID finds its row; the same bytes under a new UIDVALIDITY find the first row."""
    with session(engine) as s:
        first = _message(s, uid=5, sha="aa" * 32)
        _message(s, uid=6, sha="bb" * 32)
        _message(s, uid=9, sha="aa" * 32)
        assert ledger.rows_by_uid(s, "pjyjjbgs@163.com", "INBOX", 1, [5, 7, 5]) == {5: first}
        assert ledger.rows_by_uid(s, "pjyjjbgs@163.com", "INBOX", 2, [5]) == {}
        assert ledger.rows_by_uid(s, "pjyjjbgs@163.com", "已处理", 1, [5]) == {}
        assert ledger.rows_by_uid(s, "pjyjjbgs@163.com", "INBOX", 1, []) == {}
        by_sha = ledger.message_by_sha(s, "aa" * 32)
        assert by_sha is not None
        assert by_sha.id == first
        assert ledger.message_by_sha(s, "cc" * 32) is None


def test_a_restart_finds_the_messages_left_mid_way(engine: Engine) -> None:
    """Messages still `fetched` or `recorded` are what a restart resumes, oldest first."""
    with session(engine) as s:
        ids = [_message(s, uid=n, sha=f"{n:02x}" * 32) for n in (1, 2, 3)]
        s.get_one(Message, ids[1]).state = MessageState.ACKNOWLEDGED
        s.get_one(Message, ids[2]).state = MessageState.FETCHED
    with session(engine) as s:
        found = ledger.messages_in_states(
            s, (MessageState.FETCHED, MessageState.RECORDED), account="pjyjjbgs@163.com"
        )
        assert [m.id for m in found] == [ids[0], ids[2]]
        assert ledger.messages_in_states(s, (MessageState.FETCHED,), folder="已处理") == []


def test_poll_state_is_created_once_per_folder(engine: Engine) -> None:
    """The first poll of a folder starts from nothing; later polls get the same cursor back."""
    with session(engine) as s:
        state = ledger.get_or_create_poll_state(s, "pjyjjbgs@163.com", "INBOX")
        assert (state.uidvalidity, state.last_uid, state.consecutive_failures) == (None, 0, 0)
        state.uidvalidity = 1750000000
        state.last_uid = 42
        state.last_success_at = NOW
    with session(engine) as s:
        state = ledger.get_or_create_poll_state(s, "pjyjjbgs@163.com", "INBOX")
        assert (state.uidvalidity, state.last_uid, state.last_success_at) == (1750000000, 42, NOW)
        ledger.get_or_create_poll_state(s, "pjyjjbgs@163.com", "已处理")
    with session(engine) as s:
        assert len(s.exec(select(PollState)).all()) == 2
