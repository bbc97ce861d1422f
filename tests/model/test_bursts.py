"""BULK_BURST and RECIPIENT_SWEEP: bounded sliding windows fed in submission order."""

from __future__ import annotations

from datetime import datetime, timedelta

from spamgate.config import load_policy
from spamgate.domain.message import KST
from spamgate.model.bursts import BurstTracker, key_of
from spamgate.pipeline import MessageFields, Pipeline

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=KST)
TEMPLATE = "[택배] {name}님 주소 불일치로 반송 예정. 주소 수정 http://{host}.top/{n} 문의 {phone}"


def _pipeline() -> Pipeline:
    pipeline = Pipeline(load_policy(), clock=lambda: T0, model=None, url_model=None)
    assert pipeline.bursts is None  # a one-off pipeline keeps no window state
    assert pipeline.start_burst_tracking() is not None
    return pipeline


def _campaign(i: int) -> str:
    return TEMPLATE.format(
        name=["김*수", "이*진", "박*영"][i % 3],
        host=f"x{i}",
        n=i * 7,
        phone=f"010-{1000 + i}-{2000 + i}",
    )


def _at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def test_content_key_ignores_links_numbers_names_spacing() -> None:
    assert key_of(_campaign(1)) == key_of(_campaign(2))
    assert key_of("무직자 당일 대출 가능 상담 환영") == key_of(
        "무.직.자 당 일 대출!! 가능 상담 환영"
    )
    assert key_of("오늘 저녁 7시에 강남역에서 만나요") != key_of(
        "내일 아침 9시에 회사 앞에서 만나요"
    )
    assert key_of("감사합니다") is None  # too short to be a campaign


def test_same_content_from_many_senders_bursts() -> None:
    pipeline = _pipeline()
    fired = []
    for i in range(12):
        verdict = pipeline.judge_fields(
            MessageFields(_campaign(i), sender=f"0101234{5000 + i:04d}"[-11:], at=_at(i * 0.5),
                          recipient=f"010{55550000 + i * 7919:08d}")
        )  # fmt: skip
        fired.append("BULK_BURST" in verdict.symbol_names())
    assert fired.index(True) == 7  # the 8th distinct sender (min_senders = 8)
    assert all(fired[7:])


def test_one_sender_to_many_recipients_is_not_a_burst() -> None:
    pipeline = _pipeline()
    for i in range(120):
        verdict = pipeline.judge_fields(
            MessageFields(f"[Web발신] 인증번호 [{100000 + i}]를 입력해 주세요.",
                          sender="15881234", recipient=f"010{30000000 + i * 104729:08d}",
                          at=_at(i * 0.01))
        )  # fmt: skip
        assert "BULK_BURST" not in verdict.symbol_names()
        assert "RECIPIENT_SWEEP" not in verdict.symbol_names()


def test_window_expires() -> None:
    pipeline = _pipeline()
    for i in range(12):  # one sender an hour: never 8 in a 10-minute window
        verdict = pipeline.judge_fields(
            MessageFields(_campaign(i), sender=f"0109876{1000 + i:04d}", at=_at(i * 60))
        )
        assert "BULK_BURST" not in verdict.symbol_names()


def test_sequential_recipient_sweep() -> None:
    pipeline = _pipeline()
    symbols = []
    for i in range(60):
        verdict = pipeline.judge_fields(
            MessageFields("이벤트 당첨 안내 확인해 주세요", sender="0212345678",
                          recipient=f"0104567{1000 + i:04d}", at=_at(i * 0.05))
        )  # fmt: skip
        symbols.append("RECIPIENT_SWEEP" in verdict.symbol_names())
    assert symbols.index(True) == 49  # sweep_min_recipients = 50
    evidence = next(s.evidence for s in verdict.symbols if s.name == "RECIPIENT_SWEEP")
    assert evidence is not None and "98% sequential" in evidence  # the first has no neighbour


def test_scattered_recipients_are_no_sweep() -> None:
    tracker = BurstTracker()
    for i in range(200):
        _, sweep = tracker.observe(
            b"k" * 8, at=T0, sender="0212345678", recipient=f"010{(i * 48271) % 10**8:08d}",
            account=None,
        )  # fmt: skip
        assert sweep is not None and sweep.sequential < 10


def test_invalid_recipients_count_towards_a_sweep() -> None:
    tracker = BurstTracker()
    for i in range(60):
        _, sweep = tracker.observe(
            b"k" * 8, at=T0, sender=None, recipient=f"010{(i * 48271) % 10**8:08d}",
            account="ACME", recipient_invalid=i % 2 == 0,
        )  # fmt: skip
    assert sweep is not None and sweep.who == "ACME"
    assert sweep.recipients == 60 and sweep.invalid == 30


def test_state_is_bounded() -> None:
    tracker = BurstTracker(max_keys=10, max_senders=5, max_recipients=20)
    for i in range(100):
        tracker.observe(
            i.to_bytes(8, "little"), at=T0, sender=f"s{i % 7}", recipient=f"0101234{i:04d}",
            account=None,
        )  # fmt: skip
    assert len(tracker._bursts[1]) == 10
    assert len(tracker._sweeps[1]) == 5
    assert all(len(entry.numbers) <= 20 for entry in tracker._sweeps[1].values())
