"""config.toml, read into frozen records; secrets come from the environment, never from the file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from parsers.types import Limits


class ConfigError(Exception):
    """A config problem the office can fix; `str()` is the Chinese message for the CLI."""


@dataclass(frozen=True)
class MailboxConfig:
    host: str = "imap.163.com"
    port: int = 993
    tls: bool = True
    user: str = ""
    password_env: str = "XINBAO_IMAP_PASSWORD"  # noqa: S105 (names an env var)
    folder: str = "INBOX"
    poll_seconds: int = 60
    batch_size: int = 20
    timeout_seconds: float = 60.0
    # How a processed message is marked on the server: "flag" (a keyword plus \Seen) or "move".
    mark: str = "flag"
    keyword: str = "XinbaoDone"
    done_folder: str = "已处理"
    # RFC 2971 ID sent right after LOGIN; 163 refuses SELECT ("Unsafe Login") without it.
    send_id: bool = True

    def password(self) -> str:
        return _secret(self.password_env)


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "smtp.163.com"
    port: int = 465
    tls: bool = True
    starttls: bool = False
    user: str = ""
    password_env: str = "XINBAO_SMTP_PASSWORD"  # noqa: S105 (names an env var)
    timeout_seconds: float = 60.0
    # Most receipts one recipient gets a day, so a loop with another robot ends quickly.
    daily_cap_per_recipient: int = 20

    def password(self) -> str:
        return _secret(self.password_env)


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///var/xinbao.db"
    # Raw mail is kept here, content-addressed, before anything else happens to it.
    raw_store: str = "var/raw"


@dataclass(frozen=True)
class VerifyConfig:
    """`[verify]`: whether a From is genuine (daemon.verify) and what to do without proof."""

    # Ids the provider writes first in its Authentication-Results (exact, or `*` patterns). Empty:
    # never believe any, rely on DKIM alone (the safe choice if the provider adds none itself).
    authserv_ids: tuple[str, ...] = ("163.com", "*.163.com", "*.mail.163.com")
    dkim: bool = True
    dns_timeout: float = 5.0
    # Hold a registered publicist's unverified draft as `unverified` (True) or accept it and log.
    # True by default: a held draft is kept and released by the office, a forged one that counted
    # has already moved a unit's score; 163, 126 and qq sign all their mail, so genuine senders
    # there verify by DKIM even when the provider writes no Authentication-Results.
    require_verified_publicists: bool = True


@dataclass(frozen=True)
class OfficeConfig:
    name: str = "盘锦市应急管理局办公室"
    emails: tuple[str, ...] = ()
    bureau: str = "盘锦市应急管理局"


@dataclass(frozen=True)
class Unit:
    name: str
    group: str = "department"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Publicist:
    unit: str
    name: str
    email: str
    phone: str = ""
    wechat: str = ""


@dataclass(frozen=True)
class Config:
    path: Path | None
    mailbox: MailboxConfig = field(default_factory=MailboxConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    office: OfficeConfig = field(default_factory=OfficeConfig)
    limits: Limits = field(default_factory=Limits)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    units: tuple[Unit, ...] = ()
    publicists: tuple[Publicist, ...] = ()
    timezone: str = "Asia/Shanghai"
    # Sections later features own (scoring profile, schedule, columns); kept raw until they read them.
    extra: dict[str, Any] = field(default_factory=dict)

    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, p: str) -> Path:
        """A path from the file, relative to the file's own directory."""
        path = Path(p)
        return path if path.is_absolute() else self.base_dir() / path

    def database_url(self) -> str:
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.resolve(url[len(prefix) :]))
        return url

    def unit_by_name(self, name: str) -> Unit | None:
        for u in self.units:
            if name == u.name or name in u.aliases:
                return u
        return None


def _secret(env: str) -> str:
    value = os.environ.get(env)
    if not value:
        raise ConfigError(f"环境变量 {env} 未设置：请设置邮箱授权码（不是网页登录密码）")
    return value


def _section(cls: type, raw: dict[str, Any], name: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"配置 [{name}] 中有无法识别的项：{', '.join(sorted(unknown))}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"配置 [{name}] 有误：{exc}") from exc


def parse_config(data: dict[str, Any], *, path: Path | None = None) -> Config:
    """Validate a decoded config.toml; every error names the section in Chinese."""
    if "password" in data.get("mailbox", {}) or "password" in data.get("smtp", {}):
        raise ConfigError("配置文件中不能写密码：请用 password_env 指定保存授权码的环境变量")
    units = tuple(_section(Unit, u, "units") for u in data.get("units", []))
    names = [u.name for u in units]
    if len(set(names)) != len(names):
        raise ConfigError("配置 [[units]] 中有重复的单位名称")
    publicists = tuple(_section(Publicist, p, "publicists") for p in data.get("publicists", []))
    for p in publicists:
        if p.unit not in names:
            raise ConfigError(f"宣传员 {p.name} 的单位“{p.unit}”不在 [[units]] 中")
    known = {"mailbox", "smtp", "database", "office", "limits", "verify", "units", "publicists", "timezone"}
    return Config(
        path=path,
        mailbox=_section(MailboxConfig, data.get("mailbox", {}), "mailbox"),
        smtp=_section(SmtpConfig, data.get("smtp", {}), "smtp"),
        database=_section(DatabaseConfig, data.get("database", {}), "database"),
        office=_section(OfficeConfig, data.get("office", {}), "office"),
        limits=_section(Limits, data.get("limits", {}), "limits"),
        verify=_section(VerifyConfig, data.get("verify", {}), "verify"),
        units=units,
        publicists=publicists,
        timezone=data.get("timezone", "Asia/Shanghai"),
        extra={k: v for k, v in data.items() if k not in known},
    )


def load_config(path: Path | None) -> Config:
    """Read config.toml; without a path, ./config.toml if present, else built-in defaults."""
    if path is None:
        candidate = Path("config.toml")
        if not candidate.exists():
            return Config(path=None)
        path = candidate
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"找不到配置文件 {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 格式错误：{exc}") from exc
    return parse_config(data, path=path.resolve())
