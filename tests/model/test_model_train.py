"""Training on a small hand-written fixture: deterministic, and bad data is a clear error."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from spamgate.errors import InputError
from spamgate.model.data import bucket_of, dedup_key, group_key, load_examples, split_of
from spamgate.model.scoring import ContentModel
from spamgate.model.train import TrainOptions, _drop_words, train_content_model

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny_train.csv"


def _train(tmp: Path, seed: int = 7) -> Path:
    result = train_content_model([TINY], TrainOptions(seed=seed, model_id="test-2026.11.1"))
    return result.save(tmp)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_weights(tmp_path: Path) -> None:
    first = _train(tmp_path / "a")
    second = _train(tmp_path / "b")
    assert _sha(first / "weights.npz") == _sha(second / "weights.npz")
    assert _sha(first / "model.json") == _sha(second / "model.json")


def test_trained_model_separates_its_fixture(tmp_path: Path) -> None:
    model = ContentModel.load(_train(tmp_path))
    spam, ham = model.predict_proba(
        ["첫충 매충 카지노 가입머니 지급", "내일 회의 10시로 변경됐습니다"]
    ).tolist()
    assert spam > ham
    meta = model.meta
    assert meta.training_data[0]["file"] == "tiny_train.csv"
    assert meta.training_data[0]["sha256"] == _sha(TINY)
    assert meta.model_id == "test-2026.11.1"


def test_split_rule_matches_sources_md() -> None:
    assert dedup_key("  Hello&amp;  WORLD\n") == "hello& world"
    assert group_key("Call 010-1234-5678 now!!") == "call0now"
    key = group_key("any text")
    bucket = bucket_of(key)
    assert 0 <= bucket < 100
    assert split_of(5) == "holdout" and split_of(20) == "validation" and split_of(35) == "train"


def test_duplicates_merge_to_the_severe_label_on_ties(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(
        "label,text\nham,Same Text\nsmishing,same   text\nspam,other spam\nham,plain ham\n",
        encoding="utf-8",
    )
    examples, _, dropped = load_examples([path])
    merged = {e.text.lower(): e.label for e in examples}
    assert merged["same text"] == "smishing"
    assert dropped["duplicate"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("label,text\nham,hello\nphish,bad\n", "row 2: unknown label 'phish'"),
        ("label,text\nham,hello\nspam,   \n", "row 2: empty text"),
        ("label,text\nham,hello there\nham,see you\n", "only one class (ham)"),
        ("label,text\nspam,win now\nsmishing,click\n", "only one class (spam/smishing)"),
        ("text\nhello\n", "no 'label' column"),
        ("label,text\nham,a,b\n", "number of fields differs"),
    ],
)
def test_bad_training_csv_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.csv") as info:
        train_content_model([path])
    assert message in str(info.value)


def test_wrong_encoding_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "euckr.csv"
    path.write_bytes("label,text\nham,안녕하세요\nspam,대출\n".encode("cp949"))
    with pytest.raises(InputError, match=r"euckr.csv is not UTF-8 .*line 2"):
        train_content_model([path])


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        train_content_model([tmp_path / "nope.csv"])


def test_word_dropout_copies_are_seeded_keep_a_word_and_are_recorded(tmp_path: Path) -> None:
    text = " ".join(f"w{i}" for i in range(200))
    first = _drop_words(text, 0.2, random.Random(3))
    assert first == _drop_words(text, 0.2, random.Random(3))  # same seed, same copy
    kept = first.split()
    assert 120 < len(kept) < 190 and set(kept) < set(text.split())  # about a fifth dropped
    assert kept == sorted(kept, key=lambda w: int(w[1:]))  # order kept
    assert _drop_words("하나", 0.99, random.Random(1)) == "하나"  # never empty

    result = train_content_model([TINY], TrainOptions(seed=7, model_id="test-2026.11.1"))
    plain = train_content_model(
        [TINY], TrainOptions(seed=7, model_id="test-2026.11.1", dropout=0.0)
    )
    dropout = result.meta["hyperparameters"]["word_dropout"]
    assert dropout == {"share": 1.0, "rate": 0.2, "obfuscated": 1.0}
    assert not (result.arrays["coef"] == plain.arrays["coef"]).all()  # the copies are trained on
