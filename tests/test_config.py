"""The shipped config.toml and the checks that keep a bureau's edits honest."""

from pathlib import Path

import pytest

from daemon.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_lists_the_panjin_units() -> None:
    """The default config names the county bureaus and departments of the regulation."""
    config = load_config(ROOT / "config.toml")
    names = {u.name for u in config.units}
    assert {"盘山县应急管理局", "危化科", "综合行政执法队"} <= names
    assert {u.group for u in config.units} == {"county", "department"}
    assert config.unit_by_name("执法支队") is not None
    assert config.database_url().startswith("sqlite:////")


def test_a_password_in_the_file_is_refused() -> None:
    """Secrets must come from the environment: a bureau that pastes its 授权码 is told why."""
    with pytest.raises(ConfigError, match="不能写密码"):
        parse_config({"mailbox": {"password": "abc"}})


def test_a_publicist_of_an_unknown_unit_is_refused() -> None:
    """A typo in a publicist's unit is caught at load time, not when mail arrives."""
    with pytest.raises(ConfigError, match="不在"):
        parse_config({"publicists": [{"unit": "危化", "name": "王强", "email": "a@b.cn"}]})


def test_a_missing_secret_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the env var the office learns which variable to set."""
    monkeypatch.delenv("XINBAO_IMAP_PASSWORD", raising=False)
    config = parse_config({})
    with pytest.raises(ConfigError, match="XINBAO_IMAP_PASSWORD"):
        config.mailbox.password()
