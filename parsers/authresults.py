"""RFC 8601 Authentication-Results header values, and the sender verdict drawn from them.

A header reads `authserv-id [version] ; method[/version]=result [reason=…] [ptype.property=value …] ; …`
or `authserv-id ; none`, with RFC 5322 comments `(…)` and quoted strings anywhere between tokens.
What real providers write, and what this parser accepts:

- Coremail (163.com, 126.com) is reported to name properties its own way: `spf=pass
  smtp.mail=user@qq.com; dkim=pass header.i=@qq.com` (`smtp.mail`, not `smtp.mailfrom`; `header.i`,
  not `header.d`); both are read. The corpus holds only mail 163 sent out, not what its inbound
  MX writes: that mail carries `DKIM-Signature: … d=163.com; s=s110527; h=From:Subject:Date:
  MIME-Version:Message-Id` (osst__163_coremail_*.eml), and its Received lines name hosts bare
  (`by smtp14 (Coremail)`), so 163's authserv-id may be a bare host: configure what a real mailbox shows.
- Microsoft adds keys without a ptype (`dmarc=pass action=none header.from=…`): kept as props too.

Only the topmost header is believed (`topmost_trusted`): every receiving MTA prepends, so the
header our provider added is above anything the sender wrote (RFC 8601 §5, §7.2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class AuthResult:
    """One `method=result` with its properties, names lowercased (`header.d`, `smtp.mailfrom`)."""

    method: str
    result: str
    props: dict[str, str] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str
    results: tuple[AuthResult, ...]


@dataclass(frozen=True)
class Verdict:
    """Whether the From is genuine; `reason` is English for the log, `domain` the one that vouched."""

    verified: bool
    method: str  # "authentication-results" | "dkim" | "none"
    reason: str
    domain: str | None = None
    # A DNS timeout or failure: asking again later may give another answer.
    temporary: bool = False


# Tokens of RFC 8601 §2.2 after comments are dropped: a quoted string, one of the specials
# `;` `=` `/`, or a run of anything else (domains, `header.d`, `@163.com`, `user@qq.com`).
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[;=/]|[^\s;=/"()]+', re.DOTALL)
_KEYWORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\Z")
_VERSION = re.compile(r"\d+\Z")


def _strip_comments(value: str) -> str | None:
    """Blank out RFC 5322 comments (nested, with quoted pairs); None when they do not balance."""
    out: list[str] = []
    depth = 0
    quoted = False
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and (depth or quoted) and i + 1 < len(value):
            out.append(value[i : i + 2] if quoted else "  ")
            i += 2
            continue
        if quoted:
            quoted = ch != '"'
        elif ch == "(":
            depth += 1
        elif ch == ")":
            if not depth:
                return None
            depth -= 1
            ch = " "
        elif not depth:
            quoted = ch == '"'
        # A comment becomes blanks of the same length, so token positions keep their meaning.
        out.append(" " if depth else ch)
        i += 1
    return None if depth or quoted else "".join(out)


@dataclass(frozen=True)
class _Tok:
    text: str
    start: int
    end: int

    @property
    def word(self) -> bool:
        return self.text not in (";", "=", "/")


def _unquote(token: str) -> str:
    if token.startswith('"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def parse_authentication_results(value: str) -> AuthResults | None:
    """Parse one header value (folded or not); None when it is not RFC 8601 at all."""
    text = _strip_comments(value)
    if text is None:
        return None
    tokens = [_Tok(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not tokens or not tokens[0].word:
        return None
    authserv_id = _unquote(tokens[0].text).strip()
    rest = tokens[1:]
    if rest and _VERSION.match(rest[0].text):
        rest = rest[1:]
    if not authserv_id or not rest or rest[0].text != ";":
        return None
    # Split on `;` into resinfo segments; empty ones (`;;`, a trailing `;`) are tolerated.
    segments: list[list[_Tok]] = [[]]
    for token in rest[1:]:
        if token.text == ";":
            segments.append([])
        else:
            segments[-1].append(token)
    segments = [s for s in segments if s]
    if len(segments) == 1 and [t.text.lower() for t in segments[0]] == ["none"]:
        return AuthResults(authserv_id, ())
    results: list[AuthResult] = []
    for seg in segments:
        parsed = _resinfo(seg)
        if parsed is None:
            return None
        results.append(parsed)
    return AuthResults(authserv_id, tuple(results)) if results else None


def _resinfo(seg: list[_Tok]) -> AuthResult | None:
    """`method[/version] = result`, then `key = value` pairs; None on anything else."""
    method = seg[0].text
    i = 1
    if i + 1 < len(seg) and seg[i].text == "/" and _VERSION.match(seg[i + 1].text):
        i += 2
    if not _KEYWORD.match(method) or i + 1 >= len(seg) or seg[i].text != "=" or not seg[i + 1].word:
        return None
    result = _unquote(seg[i + 1].text).lower()
    i += 2
    props: dict[str, str] = {}
    reason = ""
    while i < len(seg):
        key = seg[i].text
        if not seg[i].word or key.startswith('"') or i + 1 >= len(seg) or seg[i + 1].text != "=":
            return None
        i += 2
        # A value runs on while tokens touch: an SRS envelope sender (`SRS0=ab=cd=x.com=u@fwd.org`)
        # holds `=` unquoted, a quoted local part is followed by `@domain`. After blanks (RFC 8601
        # allows CFWS around `=`), a run that is itself `key=value` is the next property instead,
        # and the value is empty (`smtp.mailfrom= smtp.helo=h`).
        j = i
        while j < len(seg) and (j == i or seg[j].start == seg[j - 1].end):
            j += 1
        run = seg[i:j]
        glued = bool(run) and run[0].start == seg[i - 1].end
        spaced_key = any(t.text == "=" for t in run) or (j < len(seg) and seg[j].text == "=")
        val = ""
        if run and run[0].word and (glued or not spaced_key):
            val = "".join(_unquote(t.text) for t in run)
            i = j
        if key.lower() == "reason":
            reason = val
        else:
            props.setdefault(key.lower(), val)
    return AuthResult(method.lower(), result, props, reason)


def authserv_id_matches(authserv_id: str, patterns: Sequence[str]) -> bool:
    """Exact ids or shell patterns (`*.163.com`, `mx*`), case-insensitive; `*` spans dots too."""
    ident = authserv_id.lower().rstrip(".")
    return any(fnmatchcase(ident, p.lower().rstrip(".")) for p in patterns if "[" not in p)


def topmost_trusted(headers: Sequence[str], *, authserv_ids: Sequence[str]) -> AuthResults | None:
    """The first (topmost) Authentication-Results value if it is ours; lower ones are never read.

    A sender can write any Authentication-Results it likes below the ones receiving MTAs prepend,
    so looking past the topmost header, or past one with a foreign or unreadable id, would let a
    forged "dkim=pass" in. This holds only if the provider always adds its own header.
    """
    if not headers:
        return None
    parsed = parse_authentication_results(headers[0])
    if parsed is None or not authserv_id_matches(parsed.authserv_id, authserv_ids):
        return None
    return parsed


# Registrable suffixes under which the organisational domain is one label longer (RFC 7489 §3.2
# uses the Public Suffix List; this is the part of it Chinese senders meet): CNNIC's category
# and provincial second-level domains, so `yjj.panjin.gov.cn` belongs to `panjin.gov.cn`.
_CN_PROVINCES = (
    "bj sh tj cq he sx nm ln jl hl js zj ah fj jx sd ha hb hn gd gx hi sc gz yn xz sn gs qh nx xj tw hk mo"
)
PUBLIC_SUFFIXES = frozenset(
    {"com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn", "mil.cn", "com.hk", "com.tw"}
    | {f"{p}.cn" for p in _CN_PROVINCES.split()}
)
# Providers whose paid or sister services sign as their own domain: a signature of the free
# service must not vouch for them (nor the other way round), so each is its own organisation.
MAIL_PROVIDERS = frozenset(
    {
        "163.com", "vip.163.com", "126.com", "vip.126.com", "yeah.net", "188.com", "vip.188.com",
        "qq.com", "vip.qq.com", "foxmail.com", "sina.com", "sina.cn", "vip.sina.com", "sohu.com",
        "vip.sohu.com", "aliyun.com", "139.com", "189.cn", "wo.cn",
    }
)  # fmt: skip


def organisational_domain(domain: str) -> str | None:
    """The registrable domain DMARC aligns on; None for a bare label or a public suffix itself."""
    d = domain.strip().strip("[]").lower().rstrip(".")
    labels = d.split(".")
    if len(labels) < 2 or not all(labels):
        return None
    # The longest provider domain the name sits in wins: mx1.vip.163.com → vip.163.com.
    for n in range(len(labels), 1, -1):
        if ".".join(labels[-n:]) in MAIL_PROVIDERS:
            return ".".join(labels[-n:])
    if d in PUBLIC_SUFFIXES:
        return None
    if ".".join(labels[-2:]) in PUBLIC_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed DMARC alignment: both names share one organisational domain."""
    org = organisational_domain(domain)
    return org is not None and org == organisational_domain(from_domain)


def domain_of(addr: str) -> str:
    """The domain of `user@host`, `@host` or a bare `host`, lowercased; "" when there is none."""
    return addr.strip().rsplit("@", 1)[-1].strip().strip("<>[]").lower().rstrip(".")


def verdict_from_results(results: AuthResults, *, from_addr: str) -> Verdict:
    """Verified iff dmarc=pass for From's domain, or dkim/spf=pass aligned with it.

    SPF counts only aligned (smtp.mailfrom, Coremail's smtp.mail, in From's organisation), as DMARC
    counts it: a bare spf=pass only says the connecting host may send for some envelope domain.
    For a shared mailbox domain (163.com) alignment proves the provider sent it, not which user:
    it relies on the provider refusing a From other than the logged-in account.
    """
    via = f"from {results.authserv_id}"
    from_domain = domain_of(from_addr) if "@" in from_addr else ""
    if organisational_domain(from_domain) is None:
        return Verdict(False, "authentication-results", f"From {from_addr!r} has no usable domain")
    seen: list[str] = []
    for r in results.results:
        if r.method != "dmarc":
            continue
        header_from = domain_of(r.props.get("header.from", from_domain))
        if header_from != from_domain:
            seen.append(f"dmarc={r.result} for another From ({header_from})")
            continue
        if r.result == "pass":
            return Verdict(True, "authentication-results", f"dmarc=pass for {from_domain} {via}", from_domain)
        if r.result == "fail":
            return Verdict(False, "authentication-results", f"dmarc=fail for {from_domain} {via}")
    # DKIM first: it signs the message itself, so the log names the stronger evidence.
    for r in sorted(results.results, key=lambda r: r.method != "dkim"):
        if r.method == "dkim":
            d = domain_of(r.props.get("header.d") or r.props.get("header.i", ""))
        elif r.method == "spf":
            d = domain_of(r.props.get("smtp.mailfrom") or r.props.get("smtp.mail", ""))
        else:
            continue
        if r.result == "pass" and d and aligned(d, from_domain):
            reason = f"{r.method}=pass for {d}, aligned with From {from_domain}, {via}"
            return Verdict(True, "authentication-results", reason, d)
        seen.append(f"{r.method}={r.result}" + (f" ({d or 'no domain'})" if r.result == "pass" else ""))
    summary = "; ".join(seen) if seen else "no dkim, spf or dmarc result"
    return Verdict(False, "authentication-results", f"no aligned pass for {from_domain} {via}: {summary}")
