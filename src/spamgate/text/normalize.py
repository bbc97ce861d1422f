"""Normalisation of Korean (and English) message text against filter-evasion tricks.

Spammers write `대 출`, `대.출`, `ㄷH출`, `ㄷㅐㅊㅜㄹ`, `카⭐지⭐노`, full-width
`ｂｉｔ．ｌｙ`, words stuffed with zero-width characters, or `nаver` with a Cyrillic `а`, so
that a plain keyword match misses them. :func:`normalize` undoes these tricks so that checks
and the model see one canonical spelling, and :attr:`NormalizedText.compact` also drops
everything that is not a letter or a digit, so `대*출`, `대 출` and `대-출` all match `대출`.

Pure and allocation-light: every regex and table is built once at import. The function is
total (never raises for any ``str``) and idempotent: ``normalize_text(normalize_text(x)) ==
normalize_text(x)``. Steps that could undo each other's work are ordered so that each one's
decision depends only on character classes that later steps preserve (see ``_fix_korean_run``).
"""

import contextlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["NormalizedText", "normalize", "normalize_text"]


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A message text in three forms: as received, normalised, and compacted."""

    #: The untouched input, kept for evidence.
    original: str
    #: Normalised, human-readable text (NFKC, case-folded, de-obfuscated, single-spaced).
    text: str
    #: ``text`` without any character that is not a letter or a digit (obfuscation-proof matching).
    compact: str


# --- 1. invisible characters: removed outright --------------------------------------------------
# C0/C1 controls (except whitespace), soft hyphen, combining grapheme joiner, bidi and zero-width
# format characters, Hangul fillers (U+3164 is the classic "invisible" filler), the blank braille
# pattern (used as invisible padding), variation selectors, tags, private-use characters (old
# Korean handset emoji lived there), surrogates (lone ones can reach us from broken decoders),
# combining marks for symbols (keycap, enclosing circle) and non-characters.
_DROP_BMP = (
    "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u20d0-\u20ff\u2800\u3164"
    "\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffc\ufffe\uffff"
)
_DROP = _DROP_BMP + "\U0001d173-\U0001d17a\U000e0000-\U000e0fff\U000f0000-\U0010ffff"

# --- 2. pictographs used as separators: replaced by a space -------------------------------------
# Arrows, technical symbols, geometric shapes (■◆▶○), misc symbols (★☆♥☎☞), dingbats (✔❤, but
# not the circled digits ❶-➓, which are digits), ⭐⬅, halfwidth arrows/shapes (NFKC would turn
# them into the geometric shapes above), and the emoji planes. A space rather than nothing, so
# `안녕하세요😊고객님` keeps two words; `카⭐지⭐노` is rejoined later as single syllables.
_SEP_BMP = (
    "\u2190-\u21ff\u2300-\u23ff\u25a0-\u25ff\u2600-\u2775\u2794-\u27bf\u2900-\u297f"
    "\u2b00-\u2bff\u3030\u303d\uffe8-\uffee"
)
_SEP = _SEP_BMP + "\U0001f000-\U0001f0ff\U0001f18a-\U0001faff"
# Negative circled / squared Latin letters (🅒🅐🅢🅘🅝🅞, 🅱) have no NFKC mapping: spell them out.
_ENCLOSED = "\U0001f150-\U0001f169\U0001f170-\U0001f189"

# One scan finds any of the three; the rare runs found are then sorted out piece by piece.
_STRIP_RE = re.compile(f"[{_DROP}{_SEP}{_ENCLOSED}]+")
# Most texts hold none of them. This wider class (the BMP ranges, then any character beyond the
# BMP) is scanned about three times faster than the exact one, whose ranges beyond the BMP are
# tried one by one for every character, so it screens the text first.
_STRIP_HINT_RE = re.compile(f"[{_DROP_BMP}{_SEP_BMP}\U00010000-\U0010ffff]")
_DROP_RE = re.compile(f"[{_DROP}]+")
_SEP_RE = re.compile(f"[{_SEP}]+")
_ENCLOSED_RE = re.compile(f"[{_ENCLOSED}]")


def _enclosed_letter(match: re.Match[str]) -> str:
    cp = ord(match.group())
    base = 0x1F150 if cp <= 0x1F169 else 0x1F170
    return chr(0x41 + cp - base)


@lru_cache(maxsize=4096)
def _strip_short(run: str) -> str:
    run = _DROP_RE.sub("", run)
    run = _SEP_RE.sub(" ", run)
    return _ENCLOSED_RE.sub(_enclosed_letter, run)


def _strip_run(match: re.Match[str]) -> str:
    run = match.group()
    if len(run) <= 8:  # one emoji, a ZWJ sequence: the same few recur, so cache them
        return _strip_short(run)
    return _strip_short.__wrapped__(run)


# --- 3. Hangul jamo -----------------------------------------------------------------------------
# NFKC maps compatibility jamo (ㄷ, ㅐ) to conjoining jamo and composes any initial+vowel pair,
# but it always treats a consonant as an *initial*: "ㄷㅐㅊㅜㄹ" becomes "대추ᄅ". So jamo are
# shielded from NFKC in private-use placeholders (input private-use characters were dropped in
# step 1) and composed by our own rules afterwards.
_CHO = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_JUNG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_JONG = "ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
_CHO_IDX = {c: i for i, c in enumerate(_CHO)}
_JUNG_IDX = {c: i for i, c in enumerate(_JUNG)}
_JONG_IDX = {c: i + 1 for i, c in enumerate(_JONG)}
_VOWEL_PAIRS = {
    ("ㅗ", "ㅏ"): "ㅘ", ("ㅗ", "ㅐ"): "ㅙ", ("ㅗ", "ㅣ"): "ㅚ",
    ("ㅜ", "ㅓ"): "ㅝ", ("ㅜ", "ㅔ"): "ㅞ", ("ㅜ", "ㅣ"): "ㅟ", ("ㅡ", "ㅣ"): "ㅢ",
}  # fmt: skip
_FINAL_PAIRS = {
    ("ㄱ", "ㅅ"): "ㄳ", ("ㄴ", "ㅈ"): "ㄵ", ("ㄴ", "ㅎ"): "ㄶ", ("ㄹ", "ㄱ"): "ㄺ",
    ("ㄹ", "ㅁ"): "ㄻ", ("ㄹ", "ㅂ"): "ㄼ", ("ㄹ", "ㅅ"): "ㄽ", ("ㄹ", "ㅌ"): "ㄾ",
    ("ㄹ", "ㅍ"): "ㄿ", ("ㄹ", "ㅎ"): "ㅀ", ("ㅂ", "ㅅ"): "ㅄ",
}  # fmt: skip

_MIDDLE_DOT = "\u00b7"
_PLACEHOLDER_BASE = 0xE000 - 0x3130  # compatibility jamo U+3131..U+318E -> U+E001..U+E05E


def _build_jamo_tables() -> tuple[dict[int, int | str], dict[int, int | str]]:
    """(protect, unprotect) translate tables for the jamo shield, built from the UCD."""
    to_compat: dict[int, int] = {}
    conjoining = [*range(0x1100, 0x1200), *range(0xA960, 0xA980), *range(0xD7B0, 0xD800)]
    for cp in conjoining:
        name = unicodedata.name(chr(cp), "")
        for kind in ("CHOSEONG ", "JUNGSEONG ", "JONGSEONG "):
            if kind in name:
                with contextlib.suppress(KeyError):  # archaic jamo without a compatibility form
                    to_compat[cp] = ord(unicodedata.lookup(name.replace(kind, "LETTER ")))
    for cp in range(0xFFA1, 0xFFDD):  # halfwidth jamo -> conjoining (NFKC) -> compatibility
        conj = unicodedata.normalize("NFKC", chr(cp))
        if len(conj) == 1 and ord(conj) in to_compat:
            to_compat[cp] = to_compat[ord(conj)]

    protect: dict[int, int | str] = {}
    unprotect: dict[int, int | str] = {}
    for cp in range(0x3131, 0x318F):
        protect[cp] = cp + _PLACEHOLDER_BASE
        unprotect[cp + _PLACEHOLDER_BASE] = cp
    for cp, compat in to_compat.items():
        protect[cp] = compat + _PLACEHOLDER_BASE
        if 0x1100 <= cp < 0x1200 or 0xA960 <= cp < 0xA980 or 0xD7B0 <= cp < 0xD800:
            unprotect[cp] = compat  # NFKC itself emits conjoining jamo, e.g. for ㉠ and ㈀
    # Arae-a (ㆍ) is typed as a middle dot on Korean phone keypads: treat it as one.
    for table in (protect, unprotect):
        table[0x318D] = _MIDDLE_DOT
        table[0x119E] = _MIDDLE_DOT
    unprotect[0x318D + _PLACEHOLDER_BASE] = _MIDDLE_DOT
    return protect, unprotect


_PROTECT, _UNPROTECT = _build_jamo_tables()
_ANY_JAMO_RE = re.compile("[\u1100-\u11ff\u3131-\u318e\ua960-\ua97f\ud7b0-\ud7ff\uffa1-\uffdc]")
_CONJOINING_RE = re.compile("[\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff]")


def _fold(text: str) -> str:
    """NFKC + full case folding, until stable (case folding can un-normalise, e.g. for ΐ)."""
    text = unicodedata.normalize("NFKC", text)
    for _ in range(4):
        folded = text.casefold()  # idempotent, so only NFKC can still change it
        if unicodedata.is_normalized("NFKC", folded):
            return folded
        text = unicodedata.normalize("NFKC", folded)
    return text


# --- 4. look-alikes of Latin letters --------------------------------------------------------------
# Small capitals and IPA letters that only ever stand in for plain Latin letters: always mapped.
_LATIN_LOOKALIKES = str.maketrans(
    "ıɑɡɩɪʟɴʀʏʙɢʜᴀᴄᴅᴇᴊᴋᴍᴏᴘᴛᴜᴠᴡᴢꜰꜱ",
    "iagiilnrybghacdejkmoptuvwzfs",
)
# Cyrillic/Greek letters that look like Latin ones (after case folding). Mapped only inside a
# word that also has ASCII letters ("nаver"), so real Russian or Greek text is left alone.
_CYRILLIC_GREEK = str.maketrans(
    "аеорсухіјѕԁһӏԛԝѵкαορνικυχ",
    "aeopcyxijsdhlqwvkaopvikux",
)
_HOMOGLYPH_TRIGGER_RE = re.compile(
    "[\u0131\u0250-\u02af\u0370-\u03ff\u0400-\u052f\u1d00-\u1d2b\ua730\ua731]"
)
# Words of Latin, Greek and Cyrillic letters, combining marks included: after mapping, NFKC may
# compose a mark with its new Latin base ("с́" -> "ć"), which must not join two words.
_WORD_RE = re.compile("[a-z\u00df-\u024f\u0300-\u036f\u0370-\u03ff\u0400-\u052f\u1e00-\u1fff]+")
_ASCII_LETTER_RE = re.compile("[a-z]")


def _unmix_word(match: re.Match[str]) -> str:
    word = match.group()
    if _ASCII_LETTER_RE.search(word):
        return word.translate(_CYRILLIC_GREEK)
    return word


# --- 5. look-alikes of Hangul jamo ---------------------------------------------------------------
_CONSONANT_LIKE = {"口": "ㅁ", "ロ": "ㅁ", "己": "ㄹ", "巳": "ㄹ", "人": "ㅅ", "工": "ㅍ"}
_VOWEL_LIKE = {
    "卜": "ㅏ", "ト": "ㅏ", "一": "ㅡ", "ー": "ㅡ", "丨": "ㅣ", "|": "ㅣ", "ǀ": "ㅣ",
    # Latin letters (already case-folded): `ㄷH출` -> 대출, `ㅇl벤트` -> 이벤트, `ㅋr` -> 카.
    "h": "ㅐ", "l": "ㅣ", "i": "ㅣ", "r": "ㅏ",
}  # fmt: skip
_K_CLASS = "\uac00-\ud7a3\u3131-\u3163" + "".join(_CONSONANT_LIKE) + "卜ト一ー丨|ǀ"
_LATIN_OR_MARK = "a-z\u00c0-\u024f\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\ufe20-\ufe2f"
# A run of Hangul, jamo and jamo look-alikes. A Latin h/l/i/r belongs to the run only when it
# follows a run character and is not followed by another Latin letter, so English words are
# never touched ("ㄷhello" stays).
# Only maximal runs (look-behind) that hold something to fix (look-ahead past the syllables).
_KOREAN_RUN_RE = re.compile(
    f"(?<![{_K_CLASS}])(?=[\uac00-\ud7a3]*+[\u3131-\u3163{''.join(_CONSONANT_LIKE)}卜ト一ー丨|ǀhlir])"
    f"[{_K_CLASS}]+(?:[hlir](?![{_LATIN_OR_MARK}])[{_K_CLASS}]*)*"
)
_KOREAN_TRIGGER_RE = re.compile(f"[\u3131-\u3163{''.join(_CONSONANT_LIKE)}卜ト一ー丨|ǀ]")
_REAL_HANGUL_RE = re.compile("[\uac00-\ud7a3\u3131-\u3163]")
_CV_RE = re.compile("[\u3131-\u314e][\u314f-\u3163]")
_JAMO_RUN_RE = re.compile("[\u3131-\u3163]{2,}")
# Combining marks glued to Hangul (strike-through `대̶출̶`, Zalgo) carry no meaning; drop them.
_HANGUL_MARKS_RE = re.compile(
    f"(?<=[\uac00-\ud7a3\u3131-\u318e{''.join(_CONSONANT_LIKE)}卜ト一ー丨|ǀ])"
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\ufe20-\ufe2f]+"
)
_MARKS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\ufe20-\ufe2f]")


def _compose_jamo(match: re.Match[str]) -> str:
    """Compose a run of compatibility jamo into syllables, or leave it as typed.

    Consonant+vowel starts a syllable; a following consonant (or valid consonant pair) is its
    final unless a vowel follows it. The run is left alone when a vowel would be left over or a
    stray consonant would precede a syllable: that is chat shorthand (ㅋㅋㅠㅠ, ㅋㅋㅋㅠ), not a
    word spelled out letter by letter.
    """
    run = match.group()
    out: list[str] = []
    stray = False
    i, n = 0, len(run)
    while i < n:
        cho = _CHO_IDX.get(run[i])
        if cho is not None and i + 1 < n and run[i + 1] in _JUNG_IDX:
            if stray:
                return run
            vowel = run[i + 1]
            i += 2
            if i < n and (vowel, run[i]) in _VOWEL_PAIRS:
                vowel = _VOWEL_PAIRS[vowel, run[i]]
                i += 1
            jong = 0
            if i < n and run[i] in _JONG_IDX:
                final = run[i]
                nxt = run[i + 1] if i + 1 < n else ""
                if not (nxt in _JUNG_IDX and final in _CHO_IDX):  # else: next syllable's initial
                    pair = _FINAL_PAIRS.get((final, nxt))
                    if pair is not None and not (i + 2 < n and run[i + 2] in _JUNG_IDX):
                        jong = _JONG_IDX[pair]
                        i += 2
                    else:
                        jong = _JONG_IDX[final]
                        i += 1
            out.append(chr(0xAC00 + (cho * 21 + _JUNG_IDX[vowel]) * 28 + jong))
        elif run[i] in _JUNG_IDX:
            return run
        else:
            out.append(run[i])
            stray = True
            i += 1
    return "".join(out)


def _fix_korean_run(match: re.Match[str]) -> str:
    """Map jamo look-alikes inside a Hangul run, then compose spelled-out jamo.

    A consonant look-alike becomes a jamo when a vowel (or vowel look-alike) follows it; a vowel
    look-alike when a consonant (or consonant look-alike) precedes it. Decisions read only these
    classes, which mapping and composition preserve, so a second pass changes nothing.
    """
    run = match.group()
    if not _REAL_HANGUL_RE.search(run):
        return run  # look-alikes with no Hangul around them: CJK or ASCII text, not ours
    out: list[str] = []
    last = len(run) - 1
    for i, ch in enumerate(run):
        if ch in _CONSONANT_LIKE:
            nxt = run[i + 1] if i < last else ""
            if nxt in _JUNG_IDX or nxt in _VOWEL_LIKE:
                ch = _CONSONANT_LIKE[ch]
        elif ch in _VOWEL_LIKE and i > 0:
            prev = run[i - 1]
            if "\u3131" <= prev <= "\u314e" or prev in _CONSONANT_LIKE:
                ch = _VOWEL_LIKE[ch]
        out.append(ch)
    fixed = "".join(out)
    if _CV_RE.search(fixed):
        fixed = _JAMO_RUN_RE.sub(_compose_jamo, fixed)
    return fixed


# --- 6. whitespace and syllables split apart ------------------------------------------------------
_HANGUL = "\uac00-\ud7a3"
# One space, or up to three separator symbols with an optional space on either side.
_JOIN_SEP = r"(?: ?[.\u00b7\u2022\u2027\u2219\u22c5\u30fb*/_\-+|^=`]{1,3} ?| )"
# Two or more single-syllable pieces in a row: a piece is one syllable not touching a letter or
# digit. "대 출", "카 . 지 . 노" match; "안녕하세요 고객님" and "대 출금" do not.
# (The look-behind comes after the first syllable so the regex engine can skip ahead to Hangul.)
_CHAIN_RE = re.compile(f"[{_HANGUL}](?<![^\\W_][{_HANGUL}])(?:{_JOIN_SEP}[{_HANGUL}](?![^\\W_]))+")
_CHAIN_SPLIT_RE = re.compile(f"({_JOIN_SEP})")
# "할 수", "갈 곳", "볼 때": an adnominal -ㄹ form before a dependent noun is ordinary Korean
# written with the required space; keep it.
_DEPENDENT_NOUNS = frozenset("수것거줄때뿐리걸게곳적듯만데")
_RIEUL_FINAL = 8


def _join_chain(match: re.Match[str]) -> str:
    parts = _CHAIN_SPLIT_RE.split(match.group())
    out = [parts[0]]
    last = len(parts) - 2  # index of the last separator
    for k in range(1, len(parts), 2):
        sep, prev, nxt = parts[k], parts[k - 1], parts[k + 1]
        if sep == " " and (
            # "주.소.지 불.일.치", "엄.마 나": a plain space next to a symbol-joined run is the
            # word boundary the writer kept; only the symbols inside the words are obfuscation
            (k > 1 and parts[k - 2] != " ")
            or (k < last and parts[k + 2] != " ")
            or (nxt in _DEPENDENT_NOUNS and (ord(prev) - 0xAC00) % 28 == _RIEUL_FINAL)
        ):
            out.append(sep)
        out.append(nxt)
    return "".join(out)


# Runs of letters and digits: what is left once every [\W_] character is dropped.
_ALNUM_RUN_RE = re.compile(r"[^\W_]+")
# Anything after case folding that may need the slower steps below.
_SLOW_PATH_RE = re.compile(
    "[\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff"  # conjoining jamo emitted by NFKC (㉠, ㈀)
    "\u0131\u0250-\u02af\u0370-\u03ff\u0400-\u052f\u1d00-\u1d2b\ua730\ua731"  # homoglyphs
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\ufe20-\ufe2f"  # combining marks
    f"\u3131-\u3163{''.join(_CONSONANT_LIKE)}卜ト一ー丨|ǀ]"  # jamo and their look-alikes
)


def _normalize(text: str) -> str:
    s = _STRIP_RE.sub(_strip_run, text) if _STRIP_HINT_RE.search(text) else text
    if s.isascii():
        return " ".join(s.casefold().split())
    protected = False
    if _ANY_JAMO_RE.search(s):
        if _CONJOINING_RE.search(s):
            s = unicodedata.normalize("NFC", s)  # compose well-formed L V T sequences
        s = s.translate(_PROTECT)
        protected = True
    s = _fold(s)
    if protected or _SLOW_PATH_RE.search(s):
        if _HOMOGLYPH_TRIGGER_RE.search(s):
            unmixed = _WORD_RE.sub(_unmix_word, s.translate(_LATIN_LOOKALIKES))
            if unmixed != s:  # "ᴀ" + U+0300 only composes to "à" once it is a plain "a"
                s = _fold(unmixed)  # jamo are still shielded here
        if protected or _CONJOINING_RE.search(s):
            s = s.translate(_UNPROTECT)
            # Archaic jamo (ᄰ, ᅀ…) have no compatibility form and no modern syllable: in an SMS
            # they are only ever filler between letters, so they go like zero-width characters.
            s = _CONJOINING_RE.sub("", s)
        if _MARKS_RE.search(s):
            s = _HANGUL_MARKS_RE.sub("", s)
        if _KOREAN_TRIGGER_RE.search(s):
            s = _KOREAN_RUN_RE.sub(_fix_korean_run, s)
    s = " ".join(s.split())  # str.split() splits on exactly the characters str.strip() strips
    return _CHAIN_RE.sub(_join_chain, s)


def _compact(text: str) -> str:
    # `text` is single-spaced and mostly letters: drop the spaces first, regex only if needed.
    compact = text.replace(" ", "")
    if compact.isalnum() or not compact:
        return compact
    # Joining the runs to keep is a little cheaper than substituting the ones to drop.
    return "".join(_ALNUM_RUN_RE.findall(compact))


def normalize_text(text: str) -> str:
    """Return the normalised form of ``text`` (the ``text`` field of :func:`normalize`)."""
    return _normalize(text)


def normalize(text: str) -> NormalizedText:
    """Normalise a message text for matching; never raises, idempotent on ``.text``.

    ``.text`` is NFKC, case-folded, free of invisible characters and emoji separators, with
    decomposed or look-alike Hangul recomposed (`ㄷH출`, `ㄷㅐㅊㅜㄹ` -> `대출`), Latin
    homoglyphs inside Latin words replaced (`nаver` -> `naver`), single syllables split by
    spaces or symbols rejoined (`대 . 출` -> `대출`) and whitespace collapsed. ``.compact`` is
    ``.text`` without anything that is not a letter or a digit.

    URLs inside ``.text`` are case-folded too (paths are case-sensitive): extract URLs from the
    original text with :func:`spamgate.text.extract_urls`. Format checks that care about exact
    spelling, such as the `(광고)` prefix, must read ``.original``: ``.text`` turns `(광 고)`
    into `(광고)`.
    """
    normalized = _normalize(text)
    return NormalizedText(text, normalized, _compact(normalized))  # original, text, compact
