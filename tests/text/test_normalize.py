"""spamgate.text.normalize: obfuscated Korean spam spellings in, one canonical spelling out."""

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamgate.text import NormalizedText, normalize, normalize_text


def _compact(text: str) -> str:
    """The documented definition of `compact`, written independently of the implementation."""
    return "".join(ch for ch in text if ch.isalnum())


# --- obfuscations that must collapse to the plain word ---------------------------------------


@pytest.mark.parametrize(
    ("obfuscated", "text"),
    [
        # spaces or symbols between single syllables
        ("대 출", "대출"),
        ("대.출", "대출"),
        ("대*출", "대출"),
        ("대/출", "대출"),
        ("대_출", "대출"),
        ("대-출", "대출"),
        ("대 . 출", "대출"),
        ("대  출", "대출"),
        ("대·출", "대출"),
        ("대ㆍ출", "대출"),  # arae-a typed as a middle dot
        ("토 토", "토토"),
        ("카 지 노", "카지노"),
        ("바.카.라 사이트", "바카라 사이트"),
        # each word dotted: the space the writer left between words stays a word boundary
        ("주.소.지 불.일.치.로 반송", "주소지 불일치로 반송"),
        ("토.토 사.이.트 가.입", "토토 사이트 가입"),
        ("엄.마 나 폰이", "엄마 나 폰이"),
        ("대.출 가 능", "대출 가능"),  # a spaced-out word after a dotted one is joined apart
        ("(광 고)", "(광고)"),
        # Latin / symbol look-alikes of vowels next to a consonant jamo
        ("ㄷH출", "대출"),
        ("ㄷh출", "대출"),
        ("ㅇl벤트", "이벤트"),
        ("ㅇI벤트", "이벤트"),
        ("ㅇ|벤트", "이벤트"),
        ("ㅋr지노", "카지노"),
        ("ㄴr는 ㅎr루", "나는 하루"),
        # decomposed Hangul: compatibility jamo, conjoining jamo, half-width jamo
        ("ㄷㅐㅊㅜㄹ", "대출"),
        ("대ㅊㅜㄹ", "대출"),
        ("ㅇㅣ", "이"),
        ("ㅂㅏㅋㅏㄹㅏ", "바카라"),
        ("ㄷㅏㄹㄱ", "닭"),  # double final consonant
        ("ㄷㅏㄹㄱㅏ", "달가"),  # ...unless a vowel follows
        ("ㄱㅗㅏㄴ", "관"),  # compound vowel
        ("\u1103\u1162\u110e\u116e\u11af", "대출"),  # conjoining jamo (NFD text)
        ("\uffa7\uffc2", "다"),  # half-width jamo
        ("㉠", "ㄱ"),  # circled jamo, via NFKC
        # Hanja / kana look-alikes, only among Hangul
        ("대口卜", "대마"),
        ("己ㅏ이브", "라이브"),
        ("ㄷ卜운", "다운"),
        # invisible characters
        ("바\u200b카\u200b라", "바카라"),
        ("바\u200c카\u200d라\ufeff", "바카라"),
        ("토\u00ad토", "토토"),
        ("카\u2060지\u3164노", "카지노"),
        ("대\u2800출", "대출"),
        ("대\ue000출", "대출"),  # private use (old handset emoji)
        ("대\x00출", "대출"),
        ("대̶출̶", "대출"),  # strike-through combining marks
        # emoji and pictographs used as separators
        ("카⭐지⭐노", "카지노"),
        ("카★지★노", "카지노"),
        ("토❤️토", "토토"),
        ("바🎰카🎰라", "바카라"),
        ("★대박★ 이벤트", "대박 이벤트"),
        ("☎010-1234-5678", "010-1234-5678"),
        ("🅒🅐🅢🅘🅝🅞", "casino"),
        # full-width and other compatibility forms (NFKC), case folding
        ("ｂｉｔ．ｌｙ", "bit.ly"),
        ("ＶＩＰ 회원", "vip 회원"),
        ("（광고）", "(광고)"),
        ("㈜대박", "(주)대박"),
        ("𝐁𝐎𝐍𝐔𝐒", "bonus"),
        ("ⓑⓘⓣ", "bit"),
        ("Straße", "strasse"),
        # Latin homoglyphs
        ("nаver.com", "naver.com"),  # Cyrillic а
        ("NАVЕR", "naver"),  # Cyrillic А, Е
        ("gοοgle", "google"),  # Greek ο
        ("ꜰʀᴇᴇ ʙᴇᴛ", "free bet"),  # small capitals
        # whitespace
        ("  대출\n\n상담\t가능  ", "대출 상담 가능"),
        ("대출\u3000상담", "대출 상담"),
    ],
)
def test_obfuscation_is_undone(obfuscated: str, text: str) -> None:
    assert normalize_text(obfuscated) == text


@pytest.mark.parametrize(
    ("obfuscated", "compact"),
    [
        ("대 출", "대출"),
        ("대,출", "대출"),
        ("대!출", "대출"),
        ("대~출", "대출"),
        ("대(출)", "대출"),
        ("대출 가능!! 010-1234-5678", "대출가능01012345678"),
        ("무료 거부 080.123.4567", "무료거부0801234567"),
        ("카_지_노 사이트", "카지노사이트"),
        ("(광.고)", "광고"),
    ],
)
def test_compact_drops_everything_but_letters_and_digits(obfuscated: str, compact: str) -> None:
    assert normalize(obfuscated).compact == compact


# --- ordinary text that must survive -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("안녕하세요 고객님", "안녕하세요 고객님"),
        ("주문하신 상품이 오늘 배송될 예정입니다.", "주문하신 상품이 오늘 배송될 예정입니다."),
        ("대출 금리 안내", "대출 금리 안내"),
        ("할 수 있습니다", "할 수 있습니다"),  # adnominal -ㄹ + dependent noun keeps its space
        ("볼 때 연락 주세요", "볼 때 연락 주세요"),
        ("월~금 09:00~18:00", "월~금 09:00~18:00"),
        ("금리 3.5% 적용", "금리 3.5% 적용"),
        ("최대 10,000원 / 5.000원", "최대 10,000원 / 5.000원"),
        ("2024.06.01 12:30 발송", "2024.06.01 12:30 발송"),
        ("v1.2 update", "v1.2 update"),
        ("https://bit.ly/abc", "https://bit.ly/abc"),
        ("www.naver.com/path?x=1", "www.naver.com/path?x=1"),
        ("Hello World, I like it!", "hello world, i like it!"),
        ("Visit us at HelloWorld.com", "visit us at helloworld.com"),
        ("ㅋㅋㅋ 좋아요ㅎㅎ", "ㅋㅋㅋ 좋아요ㅎㅎ"),  # chat shorthand is not a spelled-out word
        ("ㅠㅠ", "ㅠㅠ"),
        ("ㅋㅋㅠㅠ", "ㅋㅋㅠㅠ"),
        ("ㄱㅅ", "ㄱㅅ"),
        ("ㄷhello", "ㄷhello"),  # a Latin letter in an English word is not a jamo
        ("ㅋrazy", "ㅋrazy"),
        ("中国人口", "中国人口"),  # Hanja with no Hangul around are left alone
        ("Привет мир", "привет мир"),  # all-Cyrillic words are not homoglyph tricks
        ("010-1234-5678", "010-1234-5678"),
        ("❶ 첫째", "❶ 첫째"),
        ("", ""),
    ],
)
def test_ordinary_text_is_preserved(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


def test_normalize_keeps_original_and_builds_compact() -> None:
    result = normalize(" ㄷH출  가능 ")
    assert result == NormalizedText(original=" ㄷH출  가능 ", text="대출 가능", compact="대출가능")


def test_normalized_text_is_frozen() -> None:
    result = normalize("대출")
    with pytest.raises(AttributeError):
        result.text = "x"  # type: ignore[misc]


def test_full_spam_message() -> None:
    message = "(광고)★급전★ ㄷH출 당일 ㅇl체!! 카⭐지⭐노 첫충 30%\u200b ｂｉｔ．ｌｙ/AbC 무료거부0801234567"
    result = normalize(message)
    assert result.original == message
    assert (
        result.text == "(광고) 급전 대출 당일 이체!! 카지노 첫충 30% bit.ly/abc 무료거부0801234567"
    )
    assert result.compact == "광고급전대출당일이체카지노첫충30bitlyabc무료거부0801234567"


def test_edge_inputs_do_not_raise() -> None:
    assert normalize_text("\ud800\udc00\udfff") == ""  # lone surrogates are dropped
    assert normalize_text("\x00" * 1000) == ""
    big = "대 출 ㄷH출 ⭐ " * 20_000
    assert normalize_text(big) == " ".join(["대출"] * 40_000)
    assert normalize_text("ㄷ" * 50_000 + "ㅏ") == "ㄷ" * 50_000 + "ㅏ"


# --- properties ------------------------------------------------------------------------------

# Every character that any step treats specially, so that random strings hit the tricky paths.
_INTERESTING = (
    "대출카지노바라토가나다한국 안녕하세요 "
    "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎㄲㄸㄳㄺㅄㅏㅐㅑㅓㅔㅗㅘㅜㅝㅟㅡㅢㅣㆍㆎㅥ"
    "\u1100\u1103\u1161\u1162\u11a8\u11af\u119e\u115f\u1160\uffa1\uffa7\uffc2\u3164\uffa0"
    "口ロ己巳人工卜ト一ー丨|ǀhHlIiLoO0rR"
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\ufe0f\u20e3\u0301\u0336\u0345"
    "⭐★☆❤♥🎰😊🅒🅐❶①㈀㉠㈜ｂＬ．。｡/_*.-·•  \t\n\u3000\xa0"
    "аеорсхАЕОРСХαοΑΟıɑᴀʙΐẞßİǅﬀ"
)


@st.composite
def _interesting_text(draw: st.DrawFn) -> str:
    return draw(st.text(alphabet=st.sampled_from(_INTERESTING), max_size=40))


_ANY_CHARS = st.characters(exclude_categories=())  # surrogates included


@given(st.text(alphabet=_ANY_CHARS) | _interesting_text())
@settings(max_examples=1500)
def test_never_raises_and_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.text(alphabet=_ANY_CHARS) | _interesting_text())
@settings(max_examples=800)
def test_compact_is_consistent(text: str) -> None:
    result = normalize(text)
    assert result.original == text
    assert result.text == normalize_text(text)
    assert result.compact == _compact(result.text)
    assert normalize(result.text).compact == result.compact


@given(st.text(alphabet=_ANY_CHARS) | _interesting_text())
@settings(max_examples=500)
def test_output_shape(text: str) -> None:
    out = normalize_text(text)
    assert out == out.strip()
    assert "  " not in out
    assert not re.search(r"\s", out.replace(" ", ""))
    assert not re.search("[\u200b-\u200f\u2060\ufeff\ud800-\udfff\ue000-\uf8ff]", out)
    assert not re.search("[A-Z]", out)  # case-folded
    # only normal compatibility jamo may remain, never conjoining jamo
    assert not any("\u1100" <= ch <= "\u11ff" for ch in out if unicodedata.name(ch, ""))


def test_archaic_jamo_are_dropped_like_fillers() -> None:
    # Found by hypothesis: U+1130 has no compatibility jamo and no modern syllable.
    assert normalize("ᄰ").text == ""
    assert normalize("대ᄰ출").compact == "대출"
