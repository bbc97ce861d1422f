"""The campaign index itself: what gets a fingerprint, masking that variants cannot dodge, the
compact LSH storage (same candidates as datasketch's own), withdrawal and paging."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spamgate.model.campaigns import (
    MIN_INFORMATIVE,
    NUM_PERM,
    BandTable,
    CampaignIndex,
    fingerprint_text,
    informative_length,
    signatures,
    store_path,
)


@pytest.mark.parametrize(
    "text",
    [
        "WhatsApp code 123-456",
        "Transfer 500 to 0xxxxxx12",  # redaction runs are digits, not content
        "인증번호 [482913]",
        "[Web발신] 입금 50,000원",
    ],
)
def test_too_little_content_has_no_fingerprint(text: str) -> None:
    assert informative_length(fingerprint_text(text)) < MIN_INFORMATIVE
    assert np.all(signatures([text]) == np.iinfo(np.uint32).max)
    assert CampaignIndex().add_texts([text]) == []


def test_a_short_korean_smishing_text_is_enough() -> None:
    text = "엄마 나 폰 액정 깨져서 수리 맡겼어 이 번호로 문자줘"
    assert informative_length(fingerprint_text(text)) >= MIN_INFORMATIVE
    assert len(CampaignIndex().add_texts([text])) == 1


@pytest.mark.parametrize(
    ("campaign", "variant"),
    [
        # a name before 님, however it is spaced or starred, is masked the same way
        (
            "안녕하세요 혹시 이수진님 맞으신가요? 소개받고 연락드려요",
            "안 녕 하 세 요 혹 시 박 * 영 희 님 맞 으 신 가 요 소 개 받 고 연 락 드 려 요",
        ),
        # a jamo spaced apart from its look-alike vowel still recomposes
        (
            "ㅋr지노 첫충 20% 매충 10% 신규 가입 이벤트 진행중",
            "ㅋ r 지 노 첫 충 30% 매 충 5% 신 규 가 입 이 벤 트 진 행 중",
        ),
        (
            "알ㅂr 모집 주부 재택 하루 2시간 월 300만원",
            "알 ㅂ r 모 집 주 부 재 택 하루 3시간 월 500만원",
        ),
    ],
)
def test_masking_survives_spacing(campaign: str, variant: str) -> None:
    assert fingerprint_text(campaign) == fingerprint_text(variant)
    index = CampaignIndex()
    (campaign_id,) = index.add_texts([campaign])
    match = index.match_many([variant], min_similarity=0.99)[0]
    assert match is not None and match.campaign_id == campaign_id


def test_band_tables_give_datasketch_s_own_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    from datasketch import LeanMinHash, MinHashLSH

    monkeypatch.setattr(BandTable, "_MERGE_AT", 97)  # merge often: arrays and pending both used
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**32, size=(1500, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    index = CampaignIndex()
    reference = MinHashLSH(threshold=0.5, num_perm=NUM_PERM)
    for row, sig in enumerate(base):
        lean = LeanMinHash(seed=1, hashvalues=sig.astype(np.uint64), scheme="affine64")
        index._lsh.insert(row, lean, check_duplication=False)
        reference.insert(row, lean, check_duplication=False)
    queries = base[rng.integers(0, len(base), 300)].copy()
    noise = rng.random(queries.shape) < 0.35  # about a third of the values changed
    queries[noise] = rng.integers(0, 2**32, size=int(noise.sum()), dtype=np.uint64)
    nonempty = 0
    for q in queries:
        lean = LeanMinHash(seed=1, hashvalues=q.astype(np.uint64), scheme="affine64")
        got = sorted(index._lsh.query(lean))
        assert got == sorted(reference.query(lean))
        nonempty += bool(got)
    assert nonempty > 100  # the comparison was not vacuous


def test_withdraw_readd_page_and_restart(tmp_path: Path) -> None:
    texts = [
        f"[{shop}] 오늘만 드리는 {what} 특별 혜택 지금 바로 확인하시고 쿠폰 받아가세요"
        for shop, what in [
            ("행복마트", "겨울 정기 세일"),
            ("스마일쇼핑", "신규 가입"),
            ("럭키몰", "주말 한정"),
            ("해피딜", "앱 전용"),
        ]
    ]
    index = CampaignIndex.open(tmp_path)
    ids = index.add_texts(texts, source="reported.csv")
    assert len(ids) == 4 and len(index) == 4
    assert index.add_texts(texts) == []  # duplicates are skipped
    total, first = index.page(limit=3)
    assert total == 4 and [r.id for r in first] == ids[:3]
    assert first[0].source == "reported.csv" and first[0].shingles
    assert index.remove(ids[1], removed_by="token 9 (regulator)")
    assert not index.remove(ids[1]) and not index.remove("c-zzzz")
    assert index.match_many([texts[1]], min_similarity=0.99) == [None]
    total, rest = index.page(offset=1)
    assert total == 3 and [r.id for r in rest] == [ids[2], ids[3]]
    reopened = CampaignIndex.open(tmp_path)  # a restart replays the tombstone
    assert len(reopened) == 3 and reopened.get(ids[1]) is None
    assert reopened.add_texts([texts[1]]) == [ids[1]]  # registered again after withdrawal
    assert index.refresh() == 1  # the first process sees it on its next look
    assert index.match_many([texts[1]], min_similarity=0.99)[0] is not None
    assert '"deleted"' in store_path(tmp_path).read_text(encoding="utf-8")
