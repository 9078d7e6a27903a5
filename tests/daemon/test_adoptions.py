"""Adoptions by id: recording one by hand and revoking it, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from daemon.adoptions import AdoptionError, adopt, revoke
from daemon.db import session
from daemon.models import Adoption
from tests.daemon.adoption_cases import NOW, drafts, standing
from tests.daemon.test_scores_cli import Bureau, make_bureau


@pytest.fixture
def bureau(engine: Engine, db_url: str, tmp_path: Path) -> Bureau:
    return make_bureau(engine, db_url, tmp_path)


def test_revoking_one_of_two_adoptions_needs_the_channel(bureau: Bureau) -> None:
    """A draft taken by the city and the province: revoking asks which, then keeps the other."""
    ids = drafts(bureau)
    with session(bureau.engine) as s:
        for channel in ("市政府政务信息", "省级"):
            adopt(s, bureau.config, submission_id=ids["assessment"], channel=channel, adopted_at=NOW, now=NOW)
    with session(bureau.engine) as s, pytest.raises(AdoptionError, match="请用 --channel 指定撤销哪一条"):
        revoke(s, submission_id=ids["assessment"], now=NOW)
    with session(bureau.engine) as s:
        revoked = revoke(s, submission_id=ids["assessment"], level="provincial", now=NOW)
    assert [a.channel for a in revoked] == ["省级"]
    assert standing(bureau.engine) == [(ids["assessment"], "市政府政务信息")]
    with session(bureau.engine) as s:
        again = adopt(
            s, bureau.config, submission_id=ids["assessment"], level="省级", adopted_at=NOW, now=NOW
        )
    assert again.created
    with session(bureau.engine, readonly=True) as s:
        assert len(s.exec(select(Adoption)).all()) == 3  # the revoked row is kept
