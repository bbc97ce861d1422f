"""spamgate.text.urls: links found the way a phone would find them, and nothing else."""

import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamgate.text import SHORTENER_DOMAINS, ExtractedUrl, extract_urls
from spamgate.text import urls as urls_module


def _one(text: str) -> ExtractedUrl:
    found = extract_urls(text)
    assert len(found) == 1, found
    return found[0]


# --- what is found, exactly ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "raw", "url", "registered_domain", "suffix"),
    [
        ("https://x.com/a", "https://x.com/a", "https://x.com/a", "x.com", "com"),
        ("접속 bit.ly/x 하세요", "bit.ly/x", "http://bit.ly/x", "bit.ly", "ly"),
        ("abc.kr/y", "abc.kr/y", "http://abc.kr/y", "abc.kr", "kr"),
        ("www.naver.com", "www.naver.com", "http://www.naver.com/", "naver.com", "com"),
        ("WWW.NAVER.COM", "WWW.NAVER.COM", "http://www.naver.com/", "naver.com", "com"),
        (
            "HTTPS://Shop.Example.co.kr/A?b=C",
            "HTTPS://Shop.Example.co.kr/A?b=C",
            "https://shop.example.co.kr/A?b=C",
            "example.co.kr",
            "co.kr",
        ),
        # ideographic and full-width forms
        ("naver。com", "naver。com", "http://naver.com/", "naver.com", "com"),
        ("naver．com", "naver．com", "http://naver.com/", "naver.com", "com"),
        ("ｂｉｔ．ｌｙ／ａｂｃ", "ｂｉｔ．ｌｙ／ａｂｃ", "http://bit.ly/abc", "bit.ly", "ly"),
        (
            "ｈｔｔｐｓ：／／ｎａｖｅｒ．ｃｏｍ",
            "ｈｔｔｐｓ：／／ｎａｖｅｒ．ｃｏｍ",
            "https://naver.com/",
            "naver.com",
            "com",
        ),
        ("bit\u200b.ly/ab\u200bc", "bit\u200b.ly/ab\u200bc", "http://bit.ly/abc", "bit.ly", "ly"),
        # Korean particles and punctuation glued to the link
        ("bit.ly/abc로 접속", "bit.ly/abc", "http://bit.ly/abc", "bit.ly", "ly"),
        ("naver.com에서 확인", "naver.com", "http://naver.com/", "naver.com", "com"),
        ("홈페이지abc.com에서", "abc.com", "http://abc.com/", "abc.com", "com"),
        (
            "확인: https://han.gl/AbCd!",
            "https://han.gl/AbCd",
            "https://han.gl/AbCd",
            "han.gl",
            "gl",
        ),
        ("(https://x.com/a_(b)).", "https://x.com/a_(b)", "https://x.com/a_(b)", "x.com", "com"),
        ("「bit.ly/abc」", "bit.ly/abc", "http://bit.ly/abc", "bit.ly", "ly"),
        ('"me2.do/xY",', "me2.do/xY", "http://me2.do/xY", "me2.do", "do"),
        (
            "see http://abc.com/?q=1#f,",
            "http://abc.com/?q=1#f",
            "http://abc.com/?q=1#f",
            "abc.com",
            "com",
        ),
        ("abc.com?x=1", "abc.com?x=1", "http://abc.com/?x=1", "abc.com", "com"),
        ("합니다.www.abc.com", "www.abc.com", "http://www.abc.com/", "abc.com", "com"),
        ("...www.naver.com...", "www.naver.com", "http://www.naver.com/", "naver.com", "com"),
        ("naver.com:8080/x", "naver.com:8080/x", "http://naver.com:8080/x", "naver.com", "com"),
        (
            "http://naver.com@evil.com/login",
            "http://naver.com@evil.com/login",
            "http://naver.com@evil.com/login",
            "evil.com",
            "com",
        ),
    ],
)
def test_url_found(text: str, raw: str, url: str, registered_domain: str, suffix: str) -> None:
    found = _one(text)
    assert (found.raw, found.url, found.registered_domain, found.suffix) == (
        raw,
        url,
        registered_domain,
        suffix,
    )
    assert found.raw in text
    assert not found.is_ip


def test_full_record() -> None:
    assert extract_urls("[Web발신] 택배 반송: bit.ly/3xAbCd 확인") == [
        ExtractedUrl(
            raw="bit.ly/3xAbCd",
            url="http://bit.ly/3xAbCd",
            host="bit.ly",
            host_unicode="bit.ly",
            registered_domain="bit.ly",
            suffix="ly",
            is_ip=False,
            is_idn=False,
            is_shortener=True,
        )
    ]


@pytest.mark.parametrize(
    ("text", "host", "host_unicode", "registered_domain", "suffix"),
    [
        ("한글.kr", "xn--bj0bj06e.kr", "한글.kr", "xn--bj0bj06e.kr", "kr"),
        ("xn--bj0bj06e.kr", "xn--bj0bj06e.kr", "한글.kr", "xn--bj0bj06e.kr", "kr"),
        ("한글.co.kr/a", "xn--bj0bj06e.co.kr", "한글.co.kr", "xn--bj0bj06e.co.kr", "co.kr"),
        (
            "대출.한국에서",
            "xn--vk1bq81c.xn--3e0b707e",
            "대출.한국",
            "xn--vk1bq81c.xn--3e0b707e",
            "xn--3e0b707e",
        ),
        ("nаver.com", "xn--nver-53d.com", "nаver.com", "xn--nver-53d.com", "com"),  # Cyrillic а
        ("https://раураl.com/x", "xn--l-7sba6dbr.com", "раураl.com", "xn--l-7sba6dbr.com", "com"),
    ],
)
def test_idn(text: str, host: str, host_unicode: str, registered_domain: str, suffix: str) -> None:
    found = _one(text)
    assert (found.host, found.host_unicode, found.registered_domain, found.suffix) == (
        host,
        host_unicode,
        registered_domain,
        suffix,
    )
    assert found.is_idn
    assert found.url.split("/")[2] == host


@pytest.mark.parametrize(
    ("text", "raw", "url", "host"),
    [
        (
            "http://192.168.0.1/login",
            "http://192.168.0.1/login",
            "http://192.168.0.1/login",
            "192.168.0.1",
        ),
        ("접속 1.2.3.4:8080/x", "1.2.3.4:8080/x", "http://1.2.3.4:8080/x", "1.2.3.4"),
        ("서버192.168.0.1로 접속", "192.168.0.1", "http://192.168.0.1/", "192.168.0.1"),
        ("http://3232235521/", "http://3232235521/", "http://192.168.0.1/", "192.168.0.1"),
        ("http://0xC0A80001/x", "http://0xC0A80001/x", "http://192.168.0.1/x", "192.168.0.1"),
        ("http://0300.0250.0.1/", "http://0300.0250.0.1/", "http://192.168.0.1/", "192.168.0.1"),
        ("http://192.168.1/", "http://192.168.1/", "http://192.168.0.1/", "192.168.0.1"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x", "http://[::1]:8080/x", "::1"),
        ("https://[2001:DB8::1]", "https://[2001:DB8::1]", "https://[2001:db8::1]/", "2001:db8::1"),
    ],
)
def test_ip_literals(text: str, raw: str, url: str, host: str) -> None:
    found = _one(text)
    assert (found.raw, found.url, found.host, found.registered_domain) == (raw, url, host, host)
    assert found.is_ip
    assert found.suffix == ""
    assert not found.is_idn
    assert not found.is_shortener


@pytest.mark.parametrize(
    "text",
    [
        # numbers, amounts, dates, times, versions
        "금리 3.5% 적용",
        "최대 10.000원",
        "10,000.50원",
        "2024.06.01 발송",
        "12:30에 만나요",
        "v1.2 업데이트",
        "Ver.2.0",
        "010.1234.5678",
        "02.123.4567",
        "1.2.3.4.5",
        "256.1.1.1",
        "01.02.03.04",
        # e-mail addresses
        "문의: a@gmail.com",
        "kim.park@naver.com",
        "first.last@sub.example.co.kr",
        # abbreviations and sentence punctuation
        "e.g. 이런 경우",
        "i.e.",
        "No.1 업체",
        "NO.1",
        "ㅋㅋ.ㅋ",
        "감사합니다.고객님",
        "Mr.Kim 안녕하세요",
        "Mr.Kim? 네.",
        "Dr.Love",
        "Samsung Co.Ltd",
        "바랍니다.SK텔레콤",
        "file.txt",
        "사진.jpg",
        "Tel.02-123-4567",
        "사이트.рф",
        # not a host at all
        "http://localhost/admin",
        "http://intranet/",
        "http://",
        "https://.com",
        "http://xn--zz.com",
        "",
    ],
)
def test_not_a_url(text: str) -> None:
    assert extract_urls(text) == []


def test_invalid_port_keeps_only_the_host() -> None:
    found = _one("example.com:99999/x")
    assert (found.raw, found.url) == ("example.com", "http://example.com/")


def test_order_and_deduplication() -> None:
    text = "naver.com, daum.net; http://naver.com/ 그리고 NAVER.COM 또 google.com."
    assert [u.url for u in extract_urls(text)] == [
        "http://naver.com/",
        "http://daum.net/",
        "http://google.com/",
    ]
    assert [u.raw for u in extract_urls(text)] == ["naver.com", "daum.net", "google.com"]


def test_several_kinds_in_one_message() -> None:
    text = "(광고)VIP 전용 카지노 https://han.gl/AbCd 가입 www.abc-casino.com 문의 010-1234-5678"
    found = extract_urls(text)
    assert [(u.url, u.is_shortener) for u in found] == [
        ("https://han.gl/AbCd", True),
        ("http://www.abc-casino.com/", False),
    ]


def test_shorteners() -> None:
    for domain in (
        "bit.ly",
        "han.gl",
        "me2.do",
        "vo.la",
        "url.kr",
        "t.ly",
        "tinyurl.com",
        "goo.gl",
        "is.gd",
        "buly.kr",
        "c11.kr",
        "zrr.kr",
        "naver.me",
        "t.co",
        "rb.gy",
        "cutt.ly",
        "ow.ly",
        "shorturl.at",
        "tiny.cc",
    ):
        assert domain in SHORTENER_DOMAINS
        found = _one(f"{domain}/AbC1")
        assert found.is_shortener
        assert found.registered_domain == domain
    assert not _one("www.naver.com").is_shortener
    assert not _one("sub.bit.ly.evil.com/x").is_shortener
    assert _one("https://www.bit.ly/x").is_shortener


def test_every_shortener_is_a_registrable_domain() -> None:
    for domain in SHORTENER_DOMAINS:
        assert _one(f"https://{domain}/x").registered_domain == domain


def test_bundled_suffix_list_only_no_network_no_disk() -> None:
    """In a fresh interpreter where any network or disk write raises, extraction still works."""
    script = textwrap.dedent(
        """
        import sys

        NETWORK = (
            "socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto",
            "socket.sendmsg", "socket.gethostbyaddr", "http.client.connect", "urllib.Request",
        )
        seen = []

        def guard(event, args):
            if event in NETWORK:
                seen.append(event)
                raise RuntimeError(f"network access: {event} {args!r}")
            if event in ("os.mkdir", "os.rename", "os.remove") or (
                event == "open" and isinstance(args[1], str) and any(c in args[1] for c in "wax+")
            ):
                seen.append(event)
                raise RuntimeError(f"disk write: {event} {args!r}")

        sys.addaudithook(guard)
        from spamgate.text import extract_urls

        found = extract_urls("bit.ly/abc 한글.co.kr naver。com")
        assert [u.registered_domain for u in found] == [
            "bit.ly", "xn--bj0bj06e.co.kr", "naver.com"
        ], found
        assert not seen, seen
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_extractor_uses_only_the_bundled_snapshot() -> None:
    extractor = urls_module._extractor()
    assert extractor.suffix_list_urls == ()
    assert extractor.fallback_to_snapshot


# --- properties ------------------------------------------------------------------------------

_URLISH = (
    "abcxyzKLMN0123456789.-/:?#@%_~=&()[],!'\"。．｡ｂｌｙ ㅋ한글국대출에서로 \u200b\u00adаеο"
    "httpsw" + "．"
)


@given(
    st.text(alphabet=st.characters(exclude_categories=()))
    | st.text(alphabet=st.sampled_from(_URLISH), max_size=60)
    | st.lists(
        st.sampled_from(
            [
                "http://",
                "https://",
                "www.",
                "bit.ly",
                ".com",
                ".kr",
                ".한국",
                "/",
                "@",
                ":8080",
                "1.2.3.4",
                "한글",
                "naver",
                " ",
                "로",
                ".",
                "xn--bj0bj06e",
                "0x",
                "[::1]",
                "。",
            ]
        ),
        max_size=12,
    ).map("".join)
)
@settings(max_examples=1500)
def test_never_raises_and_results_are_consistent(text: str) -> None:
    found = extract_urls(text)
    urls = [u.url for u in found]
    assert len(urls) == len(set(urls))
    position = 0
    for url in found:
        at = text.find(url.raw, position)
        assert at >= 0, (url.raw, text)
        position = at + len(url.raw)
        assert url.url.startswith(("http://", "https://"))
        assert url.host.isascii()
        assert url.host == url.host.lower()
        if url.is_ip:
            assert url.suffix == ""
            assert url.registered_domain == url.host
        else:
            assert url.suffix
            assert url.registered_domain.endswith("." + url.suffix)
            assert url.host == url.registered_domain or url.host.endswith(
                "." + url.registered_domain
            )
        assert url.is_shortener == (url.registered_domain in SHORTENER_DOMAINS)


def test_at_most_max_links_the_first_ones() -> None:
    text = " ".join(f"https://site{i}.com/a" for i in range(urls_module.MAX_LINKS + 24))
    found = extract_urls(text)
    assert [u.host for u in found] == [f"site{i}.com" for i in range(urls_module.MAX_LINKS)]


@pytest.mark.parametrize(
    "label",
    [
        "가" * 60,  # cannot fit 63 letters after xn--
        "가나다라마바사아자차카타파하" * 4,  # fits the length check, not the punycode one
    ],
)
def test_overlong_idn_labels_are_not_hosts(label: str) -> None:
    assert extract_urls(f"https://{label}.com/x") == []
    assert extract_urls(f"{label}.한국") == []


def test_invalid_or_non_canonical_punycode_is_not_a_host() -> None:
    assert extract_urls("https://xn--zz.com/a") == []
    assert extract_urls("https://xn--abc-.com/a") == []
    assert [u.host_unicode for u in extract_urls("https://xn--3e0b707e.com/a")] == ["한국.com"]


def test_browser_idna_mapping() -> None:
    # UTS #46 as browsers apply it: ß stays a letter of its own (IDNA 2003 made it "ss").
    assert [u.host for u in extract_urls("https://faß.de/x")] == ["xn--fa-hia.de"]
    assert [u.host for u in extract_urls("https://ＫＯＲＥＡ.com/x")] == ["korea.com"]


def test_idn_with_subdomain_and_two_label_suffix_read_back_in_a_labels() -> None:
    found = _one("https://www.한글.co.kr/a")
    assert (found.host, found.registered_domain, found.suffix, found.host_unicode) == (
        "www.xn--bj0bj06e.co.kr",
        "xn--bj0bj06e.co.kr",
        "co.kr",
        "www.한글.co.kr",
    )


def test_idn_hosts_never_reach_a_pure_python_punycode_codec(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python's punycode codec (used by encodings.idna and by the idna package tldextract
    calls) costs O(n²) per label: a text of unique Hangul hosts took 25-55 ms to judge. Every
    IDN must go through ada's C++ code instead, so the slow codec is made to fail here."""
    import encodings.punycode

    def refuse(*_: object, **__: object) -> object:
        raise AssertionError("the pure-Python punycode codec was used")

    monkeypatch.setattr(encodings.punycode, "punycode_encode", refuse)
    monkeypatch.setattr(encodings.punycode, "punycode_decode", refuse)
    urls_module._lookup_domain.cache_clear()
    urls_module._analyze_run_cached.cache_clear()
    found = extract_urls(
        "확인 https://대출상담.한국/a 그리고 xn--bj0bj06e.co.kr/b 또 www.한글.kr/c"
    )
    assert [u.host_unicode for u in found] == ["대출상담.한국", "한글.co.kr", "www.한글.kr"]
    assert extract_urls("https://" + "가나다라마바사아자차카타파하" * 4 + ".com/x") == []
