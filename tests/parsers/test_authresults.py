"""Authentication-Results as providers write them, and which of them make a From genuine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.authresults import (
    AuthResult,
    AuthResults,
    authserv_id_matches,
    organisational_domain,
    parse_authentication_results,
    topmost_trusted,
    verdict_from_results,
)

OURS = ("163.com", "*.163.com", "*.mail.163.com")
GMAIL = (
    "mx.google.com;\r\n       dkim=pass header.i=@qq.com header.s=s201512 header.b=Ab1/2+x=;\r\n"
    "       spf=pass (google.com: domain of x@qq.com designates 1.2.3.4 as permitted sender)"
    " smtp.mailfrom=x@qq.com;\r\n       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=qq.com"
)


def res(method: str, result: str, **props: str) -> AuthResult:
    return AuthResult(method, result, {k.replace("_", "."): v for k, v in props.items()})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "mx14.163.com; spf=pass smtp.mail=wangqiang.wh@163.com; dkim=pass header.i=@163.com",
            AuthResults(
                "mx14.163.com",
                (
                    res("spf", "pass", smtp_mail="wangqiang.wh@163.com"),
                    res("dkim", "pass", header_i="@163.com"),
                ),
            ),
            id="coremail's own property names",
        ),
        pytest.param(
            GMAIL,
            AuthResults(
                "mx.google.com",
                (
                    res("dkim", "pass", header_i="@qq.com", header_s="s201512", header_b="Ab1/2+x="),
                    res("spf", "pass", smtp_mailfrom="x@qq.com"),
                    res("dmarc", "pass", header_from="qq.com"),
                ),
            ),
            id="folded, with comments",
        ),
        pytest.param("example.org 1; none", AuthResults("example.org", ()), id="version and none"),
        pytest.param(
            "MX.163.COM; DKIM=Pass header.d=163.com",
            AuthResults("MX.163.COM", (res("dkim", "pass", header_d="163.com"),)),
            id="method and result case-insensitive",
        ),
        pytest.param(
            'x.163.com; dkim/1=pass (good (nested) "sig") header.d=163.com',
            AuthResults("x.163.com", (res("dkim", "pass", header_d="163.com"),)),
            id="method version, nested comment",
        ),
        pytest.param(
            "mx.microsoft.com 1; spf=none; dmarc=pass action=none header.from=a.cn; arc=none",
            AuthResults(
                "mx.microsoft.com",
                (
                    res("spf", "none"),
                    res("dmarc", "pass", action="none", header_from="a.cn"),
                    res("arc", "none"),
                ),
            ),
            id="microsoft's keys without ptype",
        ),
        pytest.param(
            "fwd.org; spf=pass smtp.mailfrom=SRS0=ab=cd=x.com=u@fwd.org",
            AuthResults("fwd.org", (res("spf", "pass", smtp_mailfrom="SRS0=ab=cd=x.com=u@fwd.org"),)),
            id="SRS sender with unquoted =",
        ),
        pytest.param(
            'x; spf = pass smtp.mailfrom = "a b"@c.com;;',
            AuthResults("x", (res("spf", "pass", smtp_mailfrom="a b@c.com"),)),
            id="blanks around =, quoted value, empty resinfo",
        ),
        pytest.param(
            "x; spf=neutral smtp.mailfrom= smtp.helo=h",
            AuthResults("x", (res("spf", "neutral", smtp_mailfrom="", smtp_helo="h"),)),
            id="empty value",
        ),
        pytest.param(
            '"mx.163.com"; dkim=pass header.d=163.com',
            AuthResults("mx.163.com", (res("dkim", "pass", header_d="163.com"),)),
            id="quoted authserv-id",
        ),
    ],
)
def test_headers_parse_into_results(value: str, expected: AuthResults) -> None:
    """Real-world header shapes parse into method, result and lowercased property names."""
    assert parse_authentication_results(value) == expected


def test_reason_is_kept_apart_from_properties() -> None:
    """A quoted reason with escaped quotes lands in `reason`, not among the properties."""
    parsed = parse_authentication_results('x; dkim=fail reason="bad \\"sig\\"" header.d=a.cn')
    assert parsed is not None
    assert parsed.results[0].reason == 'bad "sig"'
    assert parsed.results[0].props == {"header.d": "a.cn"}


@pytest.mark.parametrize(
    "value",
    ["", "garbage", ";", "mx.163.com", "x; =pass", "x; dkim=pass header.d", "x; dkim=pass (unclosed",
     "x; dkim=pass) header.d=a", 'x; dkim="pass', "x; dkim", "x; dkim=pass = =", "x y; dkim=pass"],
)  # fmt: skip
def test_garbage_is_none(value: str) -> None:
    """Anything that is not RFC 8601 gives None, so it can never count as a pass."""
    assert parse_authentication_results(value) is None


@given(st.text(max_size=200))
def test_parser_never_raises(value: str) -> None:
    """Any header a sender writes parses or gives None; it never takes the daemon down."""
    parse_authentication_results(value)


@pytest.mark.parametrize(
    ("ident", "patterns", "trusted"),
    [
        ("163.com", OURS, True),
        ("mx14.163.com", OURS, True),
        ("MX14.163.COM.", OURS, True),
        ("m1.mail.163.com", OURS, True),
        ("evil163.com", OURS, False),
        ("163.com.evil.com", OURS, False),
        ("mx.126.com", OURS, False),
        ("mx14", ("mx*",), True),
        ("mx14", (), False),
    ],
)
def test_authserv_ids_match_exactly_or_by_pattern(
    ident: str, patterns: tuple[str, ...], trusted: bool
) -> None:
    """`*.163.com` covers 163's hosts but not a look-alike domain; no pattern trusts nothing."""
    assert authserv_id_matches(ident, patterns) is trusted


PROVIDER = "mx14.163.com; spf=softfail smtp.mail=x@evil.com; dkim=none"
FORGED = "mx.163.com; dkim=pass header.i=@163.com; dmarc=pass header.from=163.com"


@pytest.mark.parametrize(
    ("headers", "authserv_id"),
    [
        pytest.param([PROVIDER], "mx14.163.com", id="provider's header"),
        pytest.param([PROVIDER, FORGED], "mx14.163.com", id="forged pass below the provider's is never read"),
        pytest.param(["mx.evil.com; dkim=pass header.d=163.com", FORGED], None, id="foreign topmost"),
        pytest.param(["mx.163.com; dkim=pass (unclosed", FORGED], None, id="unreadable topmost"),
        pytest.param([], None, id="none at all"),
    ],
)
def test_only_the_topmost_header_counts(headers: list[str], authserv_id: str | None) -> None:
    """The provider's header is the topmost; anything lower or foreign may be the sender's forgery."""
    found = topmost_trusted(headers, authserv_ids=OURS)
    assert (found.authserv_id if found else None) == authserv_id


@pytest.mark.parametrize(
    ("domain", "org"),
    [
        ("163.com", "163.com"),
        ("m12-18.163.com", "163.com"),
        ("vip.163.com", "vip.163.com"),
        ("mx1.vip.163.com", "vip.163.com"),
        ("foxmail.com", "foxmail.com"),
        ("yjj.panjin.gov.cn", "panjin.gov.cn"),
        ("panjin.gov.cn", "panjin.gov.cn"),
        ("mail.pj.ln.cn", "pj.ln.cn"),
        ("Example.COM.", "example.com"),
        ("163.com.evil.com", "evil.com"),
        ("gov.cn", None),
        ("com", None),
        ("", None),
    ],
)
def test_organisational_domains(domain: str, org: str | None) -> None:
    """Chinese second-level suffixes and paid mailbox services are their own organisations."""
    assert organisational_domain(domain) == org


WANG = "wangqiang.wh@163.com"
OFFICE = "office@yjj.panjin.gov.cn"


@pytest.mark.parametrize(
    ("header", "from_addr", "verified", "domain"),
    [
        pytest.param(
            "mx14.163.com; dkim=pass header.i=@163.com", WANG, True, "163.com", id="163 publicist, dkim"
        ),
        pytest.param(
            "mx14.163.com; spf=pass smtp.mail=wangqiang.wh@163.com", WANG, True, "163.com", id="spf aligned"
        ),
        pytest.param("mx.163.com; dmarc=pass header.from=163.com", WANG, True, "163.com", id="dmarc pass"),
        pytest.param(
            "mx.163.com; spf=pass smtp.mailfrom=bounce@mail.panjin.gov.cn",
            OFFICE,
            True,
            "mail.panjin.gov.cn",
            id="office on a gov.cn server without DKIM, spf aligned",
        ),
        pytest.param(
            "mx.163.com; dkim=pass header.d=panjin.gov.cn", OFFICE, True, "panjin.gov.cn", id="parent d="
        ),
        pytest.param(
            "mx.163.com; dmarc=fail header.from=163.com; dkim=pass header.d=163.com",
            WANG,
            False,
            None,
            id="dmarc fail wins",
        ),
        pytest.param("mx.163.com; dkim=pass header.d=evil.com", WANG, False, None, id="dkim not aligned"),
        pytest.param(
            "mx.163.com; spf=pass smtp.mailfrom=x@evil.com", WANG, False, None, id="spf not aligned"
        ),
        pytest.param(
            "mx.163.com; spf=pass smtp.helo=m12-18.163.com", WANG, False, None, id="spf of the helo only"
        ),
        pytest.param("mx.163.com; dkim=fail header.i=@163.com", WANG, False, None, id="dkim fail"),
        pytest.param(
            "mx.163.com; dkim=pass header.d=163.com", "boss@vip.163.com", False, None, id="free for vip"
        ),
        pytest.param(
            "mx.163.com; dkim=pass header.d=gov.cn", OFFICE, False, None, id="a public suffix signs"
        ),
        pytest.param(
            "mx.163.com; dmarc=pass header.from=qq.com", WANG, False, None, id="dmarc of another From"
        ),
        pytest.param("mx.163.com; none", WANG, False, None, id="none"),
        pytest.param("mx.163.com; dkim=pass header.d=163.com", "王强", False, None, id="From without domain"),
    ],
)
def test_verdicts(header: str, from_addr: str, verified: bool, domain: str | None) -> None:
    """A pass counts only for the From's own organisation; a dmarc fail is final."""
    results = parse_authentication_results(header)
    assert results is not None
    verdict = verdict_from_results(results, from_addr=from_addr)
    assert (verdict.verified, verdict.domain, verdict.method) == (verified, domain, "authentication-results")
    assert verdict.reason


def test_reason_names_what_the_provider_saw() -> None:
    """The log line says which results were seen and why none counted."""
    results = parse_authentication_results(
        "mx14.163.com; spf=softfail smtp.mail=a@evil.com; dkim=pass header.d=evil.com"
    )
    assert results is not None
    reason = verdict_from_results(results, from_addr=WANG).reason
    assert "mx14.163.com" in reason
    assert "spf=softfail" in reason
    assert "dkim=pass (evil.com)" in reason
