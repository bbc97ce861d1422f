"""URL extraction from message text, tuned for Korean SMS and the tricks spammers use.

Finds links with or without a scheme (`https://x.com/a`, `bit.ly/x`, `www.naver.com`), with
ideographic or full-width dots and letters (`naver。com`, `ｂｉｔ．ｌｙ`), internationalised hosts
(`한글.kr`, `xn--…`, `nаver.com` with a Cyrillic `а`), IP literals including the decimal and hex
forms browsers accept (`http://3232235521/`), and Korean particles glued to a link
(`bit.ly/abc로 접속`). A host counts only if its suffix is on the Public Suffix List (the snapshot
bundled with tldextract: no network, ever), so amounts, dates, versions, e-mail addresses and
abbreviations such as `e.g.` or `Mr.Kim` are not mistaken for links.

Pure: no I/O besides reading tldextract's bundled snapshot once. Per-host work is cached.
"""

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import ada_url

if TYPE_CHECKING:
    import tldextract

__all__ = ["MAX_LINKS", "SHORTENER_DOMAINS", "ExtractedUrl", "extract_urls"]

#: Links looked at per message. SMS carry one or two; 16 leaves room for lists of them.
MAX_LINKS = 16


@dataclass(frozen=True, slots=True)
class ExtractedUrl:
    """One link found in a message."""

    #: Exactly as found in the text (evidence).
    raw: str
    #: Canonical form: scheme added if missing (``http://``), host lowercased and punycoded,
    #: path ``/`` when empty; path, query and fragment otherwise kept as written (NFKC).
    url: str
    #: Lowercased ASCII (punycode) host, or the IP address (IPv4 dotted quad, IPv6 compressed).
    host: str
    #: The host for display: IDN labels decoded.
    host_unicode: str
    #: eTLD+1 per the Public Suffix List ("naver.com", "abc.co.kr"); the IP for IP literals.
    registered_domain: str
    #: Public suffix ("com", "co.kr"); "" for IP literals.
    suffix: str
    #: IPv4/IPv6 literal, including decimal, octal and hex IPv4 forms after a scheme.
    is_ip: bool
    #: The host has non-ASCII or punycode (``xn--``) labels: a possible homograph.
    is_idn: bool
    #: ``registered_domain`` is a known URL shortener (see :data:`SHORTENER_DOMAINS`).
    is_shortener: bool


#: Registered domains of generic URL shorteners (anyone can point them anywhere), Korean ones
#: first. Brand-only short domains (youtu.be, amzn.to, …) are deliberately not listed.
SHORTENER_DOMAINS: frozenset[str] = frozenset(
    {
        # Korean services
        "naver.me", "me2.do", "me2.kr", "han.gl", "vo.la", "url.kr", "urls.kr", "buly.kr",
        "c11.kr", "zrr.kr", "zez.kr", "asq.kr", "gaw.kr", "nyr.kr", "kko.to",
        # international
        "bit.ly", "bitly.com", "bitly.is", "j.mp", "bit.do", "t.ly", "t.co", "tinyurl.com",
        "tiny.one", "rotf.lol", "goo.gl", "is.gd", "v.gd", "da.gd", "rb.gy", "cutt.ly",
        "cutt.us", "ow.ly", "ht.ly", "buff.ly", "dlvr.it", "ift.tt", "shorturl.at",
        "shorturl.asia", "short.gy", "tiny.cc", "tiny.pl", "tny.im", "s.id", "rebrand.ly",
        "bl.ink", "adf.ly", "ouo.io", "shorte.st", "bc.vc", "soo.gd", "clck.ru", "u.to",
        "x.gd", "qrco.de", "lnkd.in", "urlz.fr", "cli.re", "surl.li", "tr.ee", "snip.ly",
        "dub.sh", "lihi.cc", "reurl.cc", "ppt.cc", "gg.gg", "2.gp", "0.gp", "kutt.it",
        "shrtco.de", "urlr.me", "zpr.io", "mcaf.ee", "su.pr", "cl.ly", "qr.net",
    }
)  # fmt: skip

# --- candidate scanning ---------------------------------------------------------------------------
_DOTS = ".\u3002\uff0e\uff61"
_ZW = "\u00ad\u200b-\u200d\u2060\ufeff"  # zero-width characters spammers hide inside hosts
_LATIN = (  # letters and digits a host label may be written with (NFKC'd later)
    "0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff"
    "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
)
_HANGUL = "\uac00-\ud7a3"
_HOST_CHARS = f"{_LATIN}{_HANGUL}{_ZW}\\-\uff0d"
# RFC 3986 characters plus their full-width forms (NFKC'd later); no quotes, no brackets <>{}.
_PATH_CHARS = f"A-Za-z0-9\\-._~:/?#\\[\\]@!$&()*+,;=%\uff01-\uff5e{_ZW}"

_URL_RE = re.compile(
    "(?:"
    # with a scheme (full-width forms included): take the host run as it is
    "(?P<scheme>(?<![A-Za-z\uff21-\uff3a\uff41-\uff5a])"
    "[hHｈＨ][tTｔＴ][tTｔＴ][pPｐＰ][sSｓＳ]?[:：][/／][/／])"
    f"(?:(?P<userinfo>[^\\s/?#@／{_HANGUL}]{{1,256}})@)?"
    f"(?P<shost>\\[[0-9A-Fa-f:.]{{2,45}}\\]|[{_HOST_CHARS}{_DOTS}]++)"
    # without one: a maximal run of host characters containing a dot, not right after "@"
    f"|(?<![{_HOST_CHARS}{_DOTS}@])(?P<host>[{_HOST_CHARS}]*+[{_DOTS}][{_HOST_CHARS}{_DOTS}]*+)"
    ")"
    "(?P<port>[:：][0-9０-９]{1,5}(?![0-9０-９]))?"
    f"(?P<path>[/?#／？＃][{_PATH_CHARS}]*+)?"
)
_DOT_SPLIT_RE = re.compile(f"[{_DOTS}]")
_DIGITS = "0-9\uff10-\uff19"
_CANDIDATE_RE = re.compile(
    f"[{_DOTS}:：](?:"
    f"(?<=[{_DOTS}])(?:[{_ZW}]*(?:[A-Za-z\u00c0-\u024f\u0370-\u04ff\uff21-\uff3a\uff41-\uff5a]|한)"
    f"|[{_DIGITS}]{{1,3}}[{_DOTS}][{_DIGITS}]{{1,3}}[{_DOTS}][{_DIGITS}])"
    "|(?<=[:：])[/／][/／])"
)
_WALK_CHARS = frozenset(
    chr(cp)
    for lo, hi in (
        (0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F),
        (0x370, 0x4FF), (0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A),
    )
    for cp in range(lo, hi + 1)
) | frozenset(_DOTS + "-\uff0d\u00ad\u200b\u200c\u200d\u2060\ufeff")  # fmt: skip
_HANGUL_RE = re.compile(f"[{_HANGUL}]")
_NON_HANGUL_LETTER_RE = re.compile(
    "[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff"
    "\uff21-\uff3a\uff41-\uff5a]"
)
_TRAILING_HANGUL_RE = re.compile("[^A-Za-z\u00c0-\u024f\u0370-\u04ff\uff21-\uff5a]+$")
_TRAILING_NON_HANGUL_RE = re.compile(f"[^{_HANGUL}]+$")
_EDGE_JUNK = frozenset("-\uff0d\u00ad\u200b\u200c\u200d\u2060\ufeff")
_ZW_TABLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_ZW_TABLE[0x3002] = "."  # NFKC leaves the ideographic full stop alone
_ASCII_LABEL_RE = re.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_IDN_LABEL_RE = re.compile(r"(?:[^\W_]|-)+")
_STRICT_OCTET_RE = re.compile("0|[1-9][0-9]{0,2}")
_LOOSE_IPV4_PART_RE = re.compile("0x[0-9a-f]*|[0-9]+")
_TRAILING_PUNCT = frozenset(".,!?;:'\"*")
_CLOSERS = {")": "(", "]": "[", "}": "{"}

# Without a scheme, "Mr.Kim", "Co.Ltd", "vs.Club" would pass the suffix test (.kim, .ltd and
# .club exist): a bare domain whose name is one of these abbreviations is not taken as a link.
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "st", "jr", "sr", "co", "inc", "corp", "ltd", "no", "vs", "etc",
        "prof", "fig", "vol", "mt", "ft", "gen", "rev", "hon", "sgt",
    }
)  # fmt: skip
# A Hangul domain without a scheme is believed only under suffixes Korean IDNs really use, so a
# sentence glued to a word ("바랍니다.SK텔레콤") is not read as the domain 바랍니다.sk.
_HANGUL_IDN_SUFFIXES = frozenset({"kr", "xn--3e0b707e", "com", "net", "org"})
_KOREA_IDN_TLD = "한국"
_MAX_HOST_LENGTH = 253  # RFC 1035
_MAX_LABEL_LENGTH = 63


@cache
def _extractor() -> "tldextract.TLDExtract":
    """The suffix-list extractor: bundled snapshot only, no fetching, no disk cache.

    Imported and built on first use: tldextract pulls in requests (~0.2 s), and reading the
    snapshot takes a while more, which a process that never meets a link need not pay.
    """
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


@dataclass(frozen=True, slots=True)
class _Host:
    """A validated host, with what :func:`_build` needs to decide and to report."""

    first: int  # where the host starts and ends inside the scanned run
    last: int
    cut: bool  # Hangul glued after the TLD was cut off: nothing after the run belongs to it
    ascii: str
    unicode: str
    registered: str
    suffix: str
    is_ip: bool
    is_idn: bool
    #: Without a scheme: believable even with no path or port (not "Mr.Kim", "Dr.Love").
    bare_ok: bool
    #: Without a scheme: believable at all (Hangul names only under Korean-used suffixes).
    schemeless_ok: bool


@lru_cache(maxsize=8192)
def _is_public_suffix(name: str) -> bool:
    result = _extractor()(name)
    return bool(result.suffix) and not result.domain and not result.subdomain


def _label_to_ascii(label: str) -> str | None:
    """The A-label (punycode) of a non-ASCII host label, or None if it cannot be one.

    UTS #46 processing as browsers do it (WHATWG URL), by ada's C++ code: Python's own codec
    (IDNA 2003, pure Python) spends O(n²) on a label, about 2 ms on a 55-syllable one, and a
    message can carry dozens. The length is checked here, as ada leaves that to the caller.
    """
    # Every non-ASCII character costs at least one letter after "xn--": longer cannot fit.
    if len(label) > _MAX_LABEL_LENGTH - 4 or not _IDN_LABEL_RE.fullmatch(label):
        return None
    try:
        ascii_label = ada_url.idna.encode(label).decode("ascii")
    except (ValueError, UnicodeError):
        return None
    if len(ascii_label) > _MAX_LABEL_LENGTH or not _ASCII_LABEL_RE.fullmatch(ascii_label):
        return None
    return ascii_label


def _label_to_unicode(ascii_label: str) -> str | None:
    """The U-label of an ``xn--`` label, or None if it is not valid, canonical punycode."""
    try:
        decoded = ada_url.idna.decode(ascii_label)
        if not decoded or decoded.startswith("xn--"):  # ada hands back what it cannot decode
            return None
        if ada_url.idna.encode(decoded).decode("ascii") != ascii_label:
            return None
    except (ValueError, UnicodeError):
        return None
    return decoded


@lru_cache(maxsize=16384)
def _lookup_domain(host: str) -> tuple[str, str, str, str, int, bool] | None:
    """(ascii, unicode, registered, suffix, domain label index, is_idn) for a cleaned host."""
    if len(host) > _MAX_HOST_LENGTH:
        return None
    labels = host.split(".")
    tld = labels[-1]
    if len(labels) < 2 or not (tld.isalpha() or tld.startswith("xn--")):
        return None
    ascii_labels: list[str] = []
    unicode_labels: list[str] = []
    is_idn = False
    for label in labels:
        if label.isascii():
            if not _ASCII_LABEL_RE.fullmatch(label):
                return None
            ascii_label = label
        else:
            found = _label_to_ascii(label)
            if found is None:
                return None
            ascii_label = found
        if ascii_label.startswith("xn--"):
            unicode_label = _label_to_unicode(ascii_label)
            if unicode_label is None:  # invalid punycode: not a host a browser would open
                return None
            is_idn = True
            unicode_labels.append(unicode_label)
        else:
            unicode_labels.append(ascii_label)
        ascii_labels.append(ascii_label)
    ascii_host = ".".join(ascii_labels)
    unicode_host = ".".join(unicode_labels)
    # An IDN goes to tldextract in Unicode: given A-labels it decodes each one it walks with the
    # pure-Python idna package (about 0.2 ms a label). The answer is counted in labels and
    # read back from the A-labels.
    result = _extractor()(unicode_host if is_idn else ascii_host)
    if not result.suffix or not result.domain:
        return None
    domain_index = len(labels) - 2 - result.suffix.count(".")
    return (
        ascii_host,
        unicode_host,
        ".".join(ascii_labels[domain_index:]),
        ".".join(ascii_labels[domain_index + 1 :]),
        domain_index,
        is_idn,
    )


def _parse_ipv4(labels: list[str], loose: bool) -> str | None:
    """Dotted-quad IPv4 for ``labels``, or None.

    Strict (no scheme): four decimal octets without leading zeros. Loose (after a scheme): what
    browsers accept, 1-4 parts in decimal, octal (leading 0) or hex (0x), e.g. 3232235521.
    """
    if not loose:
        if len(labels) != 4 or not all(_STRICT_OCTET_RE.fullmatch(p) for p in labels):
            return None
        octets = [int(p) for p in labels]
        if octets[0] == 0 or max(octets) > 255:
            return None
        return ".".join(labels)
    if not 1 <= len(labels) <= 4 or not all(_LOOSE_IPV4_PART_RE.fullmatch(p) for p in labels):
        return None
    values: list[int] = []
    for part in labels:
        if part.startswith("0x"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if "8" in part or "9" in part:
                return None
            values.append(int(part, 8))
        else:
            values.append(int(part))
    if any(v > 255 for v in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    number = values[-1]
    for i, v in enumerate(values[:-1]):
        number += v << (8 * (3 - i))
    return str(ipaddress.IPv4Address(number))


def _clean(text: str) -> str:
    """Remove zero-width characters, NFKC (full-width forms), unify dots."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text.translate(_ZW_TABLE)).translate(_ZW_TABLE)


def _label_kind(label: str) -> str:
    """'A' no Hangul, 'H' Hangul without other letters, 'M' both."""
    if not _HANGUL_RE.search(label):
        return "A"
    return "M" if _NON_HANGUL_LETTER_RE.search(label) else "H"


def _locate_host(run: str, schemed: bool) -> tuple[int, int, bool] | None:
    """(start, end, cut) of the host inside a run of host characters and dots.

    ``cut`` is True when Hangul glued after the top-level domain was cut off ("naver.com에서"),
    in which case anything after the run (port, path) does not belong to the URL. Without a
    scheme, Hangul glued in front of the name is cut off too ("홈페이지abc.com"), and Hangul
    labels are kept only right in front of the suffix ("한글.co.kr", not "합니다.www.abc.com").
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for part in _DOT_SPLIT_RE.split(run):
        spans.append((pos, pos + len(part)))
        pos += len(part) + 1
    while spans and spans[-1][0] == spans[-1][1]:
        spans.pop()
    for k in range(len(spans) - 1, -1, -1):  # an empty label ("a..b") ends the host on the left
        if spans[k][0] == spans[k][1]:
            spans = spans[k + 1 :]
            break
    if not spans:
        return None

    start, end = spans[-1]
    cut = False
    tld = run[start:end]
    if _HANGUL_RE.match(tld):
        if not tld.startswith(_KOREA_IDN_TLD):
            return None
        cut = len(tld) > len(_KOREA_IDN_TLD)
        end = start + len(_KOREA_IDN_TLD)
    else:
        hangul = _HANGUL_RE.search(tld)
        if hangul:
            end, cut = start + hangul.start(), True
    while end > start and run[end - 1] in _EDGE_JUNK:
        end -= 1
    if end == start:
        return None
    spans[-1] = (start, end)

    first = start
    if schemed:
        first = spans[0][0]
    else:
        ascii_seen = False
        for j in range(len(spans) - 2, -1, -1):
            s, e = spans[j]
            label = run[s:e]
            kind = _label_kind(label)
            if kind == "M":
                ends_hangul = _HANGUL_RE.match(label[-1]) is not None
                tail_re = _TRAILING_HANGUL_RE if ends_hangul else _TRAILING_NON_HANGUL_RE
                tail = tail_re.search(label)
                if tail is None:
                    break
                kind = "H" if ends_hangul else "A"
                s += tail.start()
            if kind == "H" and ascii_seen:
                between = _clean(".".join(run[a:b] for a, b in spans[j + 1 :])).lower()
                if len(between) > _MAX_HOST_LENGTH or not _is_public_suffix(between):
                    digits = _TRAILING_NON_HANGUL_RE.search(label)  # "서버192.168.0.1"
                    if digits is None:
                        break
                    kind, s = "A", spans[j][0] + digits.start()
            ascii_seen = ascii_seen or kind == "A"
            first = s
            if s != spans[j][0]:
                break  # a mixed label was cut: the host cannot extend further left
    while first < end and run[first] in _EDGE_JUNK:
        first += 1
    return first, end, cut


def _analyze_run(run: str, schemed: bool) -> _Host | None:
    """Find and validate the host in a run of host characters.

    Cached, since campaigns repeat the same links, but only for runs short enough to be a
    plausible host: a cache keyed by megabyte strings would be a memory leak.
    """
    if len(run) <= _MAX_CACHED_RUN:
        return _analyze_run_cached(run, schemed)
    return _analyze_run_uncached(run, schemed)


def _analyze_run_uncached(run: str, schemed: bool) -> _Host | None:
    if run.startswith("["):  # bracketed IPv6, only matched after a scheme
        try:
            ipv6 = str(ipaddress.IPv6Address(run[1:-1]))
        except ValueError:
            return None
        return _Host(0, len(run), False, ipv6, ipv6, ipv6, "", True, False, True, True)
    located = _locate_host(run, schemed)
    if located is None:
        return None
    first, last, cut = located
    written = _clean(run[first:last])
    host = written.lower()
    labels = host.split(".")
    if host.isascii():
        ipv4 = _parse_ipv4(labels, loose=schemed)
        if ipv4 is not None:
            return _Host(first, last, cut, ipv4, ipv4, ipv4, "", True, False, True, True)
    found = _lookup_domain(host) if len(host) <= _MAX_HOST_LENGTH else None
    if found is None:
        return None
    ascii_host, unicode_host, registered, suffix, domain_index, is_idn = found
    domain_label = labels[domain_index]
    schemeless_ok = not _HANGUL_RE.search(domain_label) or (
        suffix in _HANGUL_IDN_SUFFIXES or suffix.endswith(".kr")
    )
    bare_ok = True
    if labels[0] != "www" and ascii_host == registered:
        written_tld = written.rsplit(".", 1)[-1]
        title_case = len(written_tld) > 1 and written_tld.istitle()
        bare_ok = domain_label not in _ABBREVIATIONS and not title_case
    return _Host(
        first, last, cut, ascii_host, unicode_host, registered, suffix, False, is_idn,
        bare_ok, schemeless_ok,
    )  # fmt: skip


_MAX_CACHED_RUN = 320
_analyze_run_cached = lru_cache(maxsize=16384)(_analyze_run_uncached)


def _strip_path(path: str) -> str:
    """Drop trailing punctuation that belongs to the sentence, not the URL."""
    while path:
        last = path[-1]
        if last.isalnum() or last == "/":
            break
        last = unicodedata.normalize("NFKC", last)
        if last in _TRAILING_PUNCT or last in _EDGE_JUNK:
            path = path[:-1]
        elif last in _CLOSERS:
            folded = unicodedata.normalize("NFKC", path)
            if folded.count(last) <= folded.count(_CLOSERS[last]):
                break
            path = path[:-1]
        else:
            break
    return path


def _build(match: re.Match[str], text: str) -> ExtractedUrl | None:
    schemed = match.group("scheme") is not None
    group = "shost" if schemed else "host"
    run_start, run_end = match.span(group)
    if not schemed and text.startswith("@", run_end):
        return None  # the local part of an e-mail address ("kim.park@…")
    host = _analyze_run(match.group(group), schemed)
    if host is None:
        return None
    port = ""
    path = ""
    end = run_start + host.last
    port_match, path_match = match.group("port"), match.group("path")
    if not host.cut:  # junk between host and path (a zero-width space, a dot) stays in `raw`
        if port_match:
            number = int(_clean(port_match[1:]))
            if 0 < number < 65536:
                port = f":{number}"
                end = match.end("port")
        if path_match and (port or not port_match):
            raw_path = _strip_path(path_match)
            path = _clean(raw_path)
            end = match.start("path") + len(raw_path)
    if not schemed and not host.is_ip:
        if not host.schemeless_ok:
            return None
        if not (host.bare_ok or port or path):  # "Mr.Kim?" is still Mr. Kim
            return None
    if not path.startswith("/"):
        path = "/" + path

    if schemed:
        start = match.start()
        scheme = _clean(match.group("scheme")).lower()[:-3]
        userinfo = match.group("userinfo")
        userinfo = _clean(userinfo) + "@" if userinfo else ""
    else:
        start = run_start + host.first
        scheme, userinfo = "http", ""
    url_host = f"[{host.ascii}]" if ":" in host.ascii else host.ascii
    return ExtractedUrl(
        raw=text[start:end],
        url=f"{scheme}://{userinfo}{url_host}{port}{path}",
        host=host.ascii,
        host_unicode=host.unicode,
        registered_domain=host.registered,
        suffix=host.suffix,
        is_ip=host.is_ip,
        is_idn=host.is_idn,
        is_shortener=host.registered in SHORTENER_DOMAINS,
    )


def _run_start(text: str, i: int) -> int:
    """Start of the run of host characters and dots that ends at ``i`` (bounded look-back)."""
    floor = max(0, i - 256)
    while i > floor:
        c = text[i - 1]
        if c in _WALK_CHARS or "\uac00" <= c <= "\ud7a3":
            i -= 1
        else:
            break
    return i


def extract_urls(text: str) -> list[ExtractedUrl]:
    """Return the links in ``text``, in order of appearance, without duplicates (by ``url``).

    Never raises and never touches the network. Pass the original message text: paths are
    case-sensitive and ``raw`` must quote the message as written. At most :data:`MAX_LINKS`
    are returned (the first ones): a text stuffed with unique links would otherwise cost
    milliseconds in every link check.
    """
    # Only places a URL can hinge on are examined: a dot before a letter (or before the 한 of
    # .한국, or inside a dotted quad) and a scheme's "://"; the full pattern runs from there.
    first = _CANDIDATE_RE.search(text)
    if first is None:  # most messages: no link, and nothing more to allocate
        return []
    found: list[ExtractedUrl] = []
    seen: set[str] = set()
    done = 0  # end of the last URL match: candidates inside it are already handled
    # (from the first candidate on; look-behinds still see the text before it)
    for candidate in _CANDIDATE_RE.finditer(text, first.start()):
        at = candidate.start()
        if at < done:
            continue
        match: re.Match[str] | None = None
        if text[at] in ":：":
            for back in (5, 4):  # "https" or "http" before "://"
                if at - back >= done:
                    match = _URL_RE.match(text, at - back)
                    if match is not None and match.end("scheme") == at + 3:
                        break
                    match = None
        else:
            match = _URL_RE.match(text, max(done, _run_start(text, at)))
        if match is None:
            continue
        done = match.end()
        url = _build(match, text)
        if url is not None and url.url not in seen:
            seen.add(url.url)
            found.append(url)
            if len(found) == MAX_LINKS:
                break
    return found
