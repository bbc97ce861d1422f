"""Hashed n-gram extraction: what an n-gram is, and that a batch hashes like its parts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spamgate.model.features import CONTENT_LAYOUT, URL_LAYOUT, FeatureLayout, extract, to_matrix


def _names(texts: list[str], doc: int) -> list[str]:
    grams = extract(texts, CONTENT_LAYOUT)
    mask = grams.doc == doc
    return [
        grams.joined[a : a + n]
        for a, n in zip(grams.start[mask].tolist(), grams.length[mask].tolist(), strict=True)
    ]


def test_char_ngrams_stay_inside_words_and_words_pair_up() -> None:
    names = _names(["대출 가능"], 0)
    assert " 대출" in names and "대출 " in names and "대" in names
    assert "출 가" not in names  # no char n-gram spans two words
    assert "대출 가능" in names  # the word bigram does
    assert " " not in names  # a lone space is no feature


def test_ngrams_never_cross_messages() -> None:
    names = _names(["alpha", "beta"], 0)
    assert all("beta"[:2] not in name for name in names)
    assert not any("a b" in name for name in _names(["alpha", "beta"], 1))


def test_empty_and_single_char_texts() -> None:
    grams = extract(["", "a", ""], CONTENT_LAYOUT)
    assert grams.n_docs == 3
    assert set(grams.doc.tolist()) == {1}
    assert extract([], CONTENT_LAYOUT).n_docs == 0


def _columns(grams_doc: np.ndarray, cols: np.ndarray, doc: int) -> list[int]:
    return sorted(cols[grams_doc == doc].tolist())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_a_batch_hashes_each_text_as_alone(texts: list[str]) -> None:
    batch = extract(texts, CONTENT_LAYOUT)
    for i, text in enumerate(texts):
        alone = extract([text], CONTENT_LAYOUT)
        assert _columns(batch.doc, batch.col, i) == _columns(alone.doc, alone.col, 0)
        assert np.allclose(
            sorted(batch.value[batch.doc == i].tolist()), sorted(alone.value.tolist())
        )


def test_feature_values_are_count_over_sqrt_block_size() -> None:
    matrix = to_matrix(extract(["hello hello world"], CONTENT_LAYOUT), CONTENT_LAYOUT)
    assert matrix.shape == (1, CONTENT_LAYOUT.width)
    # char block and word block each contribute sum(count^2)/n; every value is positive
    assert (matrix.data > 0).all()


def test_layout_hash_changes_with_any_choice() -> None:
    other = FeatureLayout(
        scheme=CONTENT_LAYOUT.scheme,
        n_features=CONTENT_LAYOUT.n_features * 2,
        char_min=1,
        char_max=5,
        word_max=2,
        min_token_len=2,
        text=CONTENT_LAYOUT.text,
    )
    assert other.layout_hash != CONTENT_LAYOUT.layout_hash
    assert URL_LAYOUT.layout_hash != CONTENT_LAYOUT.layout_hash


def test_long_batches_hash_like_single_texts() -> None:
    # past 4,096 code points the batch takes the slice-per-size path; it must agree
    texts = [
        f"[택배] 고객님 주소 확인 바랍니다 {i} http://x{i}.top/a{i} WIN {i * 7}" for i in range(120)
    ]
    batch = extract(texts, CONTENT_LAYOUT)
    assert len(batch.joined) > 4096
    for i in (0, 57, 119):
        alone = extract([texts[i]], CONTENT_LAYOUT)
        assert _columns(batch.doc, batch.col, i) == _columns(alone.doc, alone.col, 0)
        assert np.allclose(
            sorted(batch.value[batch.doc == i].tolist()), sorted(alone.value.tolist())
        )
