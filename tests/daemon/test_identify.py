"""Resolving senders and 撰稿人 units the way publicists actually write them."""

from pathlib import Path

import pytest

from daemon.config import load_config
from daemon.identify import directory

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config.toml")
PANJIN = directory(CONFIG.units, CONFIG.publicists)


@pytest.mark.parametrize(
    ("written", "unit"),
    [
        ("危化科", "危化科"),
        ("危险化学品安全监督管理科", "危化科"),
        ("执法支队", "综合行政执法队"),
        ("盘山县应急管理局（办公室）", "盘山县应急管理局"),
        ("盘山县应急局(办公室)", "盘山县应急管理局"),
        ("市应急局（危化科）", "危化科"),
        ("大洼区 应急管理局", "大洼区应急管理局"),
        ("兴隆台区应急管理", "兴隆台区应急管理局"),
    ],
)
def test_units_are_found_by_name_alias_bracket_or_a_small_typo(written: str, unit: str) -> None:
    """What publicists write after 撰稿人 resolves to the configured unit."""
    found = PANJIN.resolve_unit(written)
    assert found is not None
    assert found.name == unit


@pytest.mark.parametrize("written", ["XX单位", "市消防救援支队", "", "某某公司"])
def test_units_not_configured_stay_unknown(written: str) -> None:
    """A unit the bureau has not configured is not guessed into another one."""
    assert PANJIN.resolve_unit(written) is None


def test_sender_addresses_match_case_insensitively() -> None:
    """163 addresses arrive in any case; the registered publicist is found all the same."""
    publicist = PANJIN.publicist("WangQiang.WH@163.com")
    assert publicist is not None
    assert publicist.unit == "危化科"
    assert PANJIN.publicist("stranger@qq.com") is None
