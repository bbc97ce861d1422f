"""Links as the content model sees them (model/url_tokens.py): site + kind, Korean texts only."""

from __future__ import annotations

from dataclasses import replace

import pytest

from spamgate.model.features import CONTENT_LAYOUT, extract, ngram_strings
from spamgate.model.url_tokens import VERSION, url_kind, with_url_tokens
from spamgate.text import extract_urls, normalize


@pytest.mark.parametrize(
    ("link", "kind"),
    [
        ("https://trace.cjlogistics.com/next/track?no=1", "urlofficial"),
        ("www.hometax.go.kr/websquare", "urlofficial"),
        ("https://www.nhis.or.kr/a", "urlofficial"),
        ("url.kr/eAK32H", None),
        ("https://bit.ly/3abcDE", None),
        ("cj-kj65.buzz/DyYuLe", "urlbadtld"),
        ("http://192.168.10.7/login", "urlip"),
        ("https://smartstore.shopping.co.kr/x", None),
        ("https://example-shop.com/item/1", None),
    ],
)
def test_url_kind(link: str, kind: str | None) -> None:
    (url,) = extract_urls(f"링크 {link} 확인")
    assert url_kind(url) == kind


def test_links_become_site_and_kind_and_the_rest_stays() -> None:
    text = normalize(
        "[우체국] 재배달 예약: cj-kj65.buzz/DyYuLe 또는 https://bit.ly/3abcDE 참고"
    ).text
    out = with_url_tokens(text)
    assert "DyYuLe" not in out and "3abcDE" not in out
    assert "cj-kj65.buzz urlbadtld" in out
    assert " bit.ly " in out and "urlshort" not in out
    assert out.startswith("[우체국] 재배달 예약:") and out.rstrip().endswith("참고")


def test_texts_without_links_are_returned_as_they_are() -> None:
    for text in ("", "내일 10시에 봬요.", "금액 12.500원 입금 완료"):
        assert with_url_tokens(text) == text


def test_only_korean_texts_get_tokens_in_the_features() -> None:
    korean = normalize("택배 주소 확인 cj-kj65.buzz/DyYuLe 부탁드립니다").text
    english = normalize("Claim your prize at cj-kj65.buzz/DyYuLe now").text
    grams = extract([korean, english], CONTENT_LAYOUT)
    names_ko = set(ngram_strings(grams, grams.doc == 0))
    names_en = set(ngram_strings(grams, grams.doc == 1))
    assert "urlbadtld" in names_ko and not any("dyyule" in n for n in names_ko)
    assert "urlbadtld" not in names_en and any("dyyule" in n for n in names_en)
    # a layout without tokens sees both links as written
    plain = replace(CONTENT_LAYOUT, url_tokens="")
    grams = extract([korean], plain)
    assert "urlbadtld" not in set(ngram_strings(grams, grams.doc == 0))


def test_layout_names_the_token_scheme() -> None:
    assert CONTENT_LAYOUT.url_tokens == VERSION
    assert CONTENT_LAYOUT.to_dict()["url_tokens"] == VERSION
    plain = replace(CONTENT_LAYOUT, url_tokens="")
    assert plain.layout_hash != CONTENT_LAYOUT.layout_hash
    # layouts without tokens (every model from before them) describe themselves as they did
    assert "url_tokens" not in plain.to_dict()
    with pytest.raises(ValueError, match="url_tokens"):
        replace(CONTENT_LAYOUT, url_tokens="spamgate-url-tokens/1")


def test_explanations_name_a_link_by_its_kind() -> None:
    from spamgate.model.scoring import ContentModel
    from spamgate.model.url_tokens import TOKEN_LABELS, token_label

    joined = " 택배 cj-kj65.buzz urlbadtld 확인 "
    at = joined.index("urlbadtld")
    assert token_label(joined, at + 2, 4) == "<link: suspicious TLD>"  # "lbad"
    assert token_label(joined, at - 3, 4) == "<link: suspicious TLD>"  # "zz u": ends in it
    assert token_label(joined, at - 4, 4) is None  # "zz ": just before it
    assert token_label(joined, 1, 2) is None  # "택배"
    model = ContentModel.load_default()
    names = model.explain(normalize("[국민은행] 보안승급 필요 kbstar-safe.top/a 접속").text, k=6)
    assert any(n in TOKEN_LABELS.values() for n in names)
    assert not any("safe.top/a" in n for n in names)
