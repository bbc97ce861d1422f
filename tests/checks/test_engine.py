"""The engine: weights from policy, group caps, thresholds, forced actions, failure isolation."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest

from spamgate.checks.base import Check, Hit, NoOptions, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.checks.registry import CHECKS
from spamgate.config import default_policy_text, load_policy
from spamgate.domain.verdict import Action
from spamgate.errors import ConfigError
from spamgate.pipeline import MessageFields, Pipeline


class Boom(Check[NoOptions]):
    name = "boom"
    symbols = (SymbolDef("BOOM", 1.0, "test", "never emitted"),)

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        raise RuntimeError("bug in a check")


class Liar(Check[NoOptions]):
    name = "liar"
    symbols = (SymbolDef("LIAR_OK", 1.0, "test", "declared"),)

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        yield Hit("NOT_DECLARED", "x")


class Fixed(Check[NoOptions]):
    """Emits three symbols in one group so the cap can be seen."""

    name = "fixed"
    symbols = (
        SymbolDef("F_ONE", 5.0, "capped", "one"),
        SymbolDef("F_TWO", 5.0, "capped", "two"),
        SymbolDef("F_FORCE", 0.0, "force", "forces throttle", Action.THROTTLE),
    )

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        yield Hit("F_ONE", "a")
        yield Hit("F_TWO", "b", factor=2.0)
        if "force" in ctx.message.text:
            yield Hit("F_FORCE")


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_failing_check_yields_check_error_and_others_still_judge() -> None:
    pipeline = Pipeline(load_policy(), checks=(*CHECKS, Boom))
    verdict = pipeline.judge_fields(MessageFields("바카라 카지노 첫충", sender="ABC"))
    assert "CHECK_ERROR" in verdict.symbol_names()
    assert "ILLEGAL_GAMBLING" in verdict.symbol_names()
    assert "SENDER_INVALID" in verdict.symbol_names()
    err = next(s for s in verdict.symbols if s.name == "CHECK_ERROR")
    assert err.evidence == "boom: RuntimeError"


def test_undeclared_symbol_is_refused() -> None:
    pipeline = Pipeline(load_policy(), checks=(Liar,))
    verdict = pipeline.judge_fields(MessageFields("hello"))
    assert verdict.symbol_names() == ["CHECK_ERROR"]


def test_group_cap_scales_symbols_so_parts_add_up(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "[groups.capped]\nmax_score = 6.0\n"))
    verdict = Pipeline(policy, checks=(Fixed,)).judge_fields(MessageFields("x"))
    assert verdict.score == pytest.approx(6.0)
    assert sum(s.score for s in verdict.symbols) == pytest.approx(6.0)
    assert [s.name for s in verdict.symbols] == ["F_TWO", "F_ONE"]  # F_TWO has factor 2


def test_thresholds_and_forced_action(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "[actions]\nlabel = 1\nspambox = 14\nreject = 100\n"))
    pipeline = Pipeline(policy, checks=(Fixed,))
    assert pipeline.judge_fields(MessageFields("x")).action == Action.SPAMBOX  # 5 + 10 = 15
    assert pipeline.judge_fields(MessageFields("force")).action == Action.THROTTLE


def test_weight_and_action_overrides(tmp_path: Path) -> None:
    body = '[checks.fixed.symbols]\nF_ONE = 0.5\nF_TWO = { weight = 0.25, action = "reject" }\n'
    verdict = Pipeline(load_policy(write(tmp_path, body)), checks=(Fixed,)).judge_fields(
        MessageFields("x")
    )
    assert verdict.score == pytest.approx(1.0)
    assert verdict.action == Action.REJECT


@pytest.mark.parametrize(
    "section",
    [
        '[checks.advertising.options]\nnight_start = "25:99"\n',
        "[checks.advertising.options]\nno_such_option = 1\n",
        "[checks.advertising.symbols]\nNOT_A_SYMBOL = 1.0\n",
        "[checks.advertising]\nweights = 3\n",
        '[checks.advertising.symbols]\nAD_PREFIX_MISSING = "heavy"\n',
    ],
)
def test_invalid_check_section_disables_only_that_check(
    tmp_path: Path, section: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        pipeline = Pipeline(load_policy(write(tmp_path, section)))
    assert "advertising" in pipeline.default.disabled
    assert any("advertising disabled" in r.getMessage() for r in caplog.records)
    verdict = pipeline.judge_fields(MessageFields("바카라 카지노", sender="ABC"))
    assert "ILLEGAL_GAMBLING" in verdict.symbol_names()
    assert not [n for n in verdict.symbol_names() if n.startswith("AD_")]


def test_invalid_extra_terms_category_disables_check(tmp_path: Path) -> None:
    body = '[checks.illegal_goods.options]\nextra_terms = { weapons = ["총기"] }\n'
    pipeline = Pipeline(load_policy(write(tmp_path, body)))
    assert "illegal_goods" in pipeline.default.disabled


def test_extra_terms_extend_a_check(tmp_path: Path) -> None:
    body = '[checks.illegal_goods.options]\nextra_terms = { gambling = ["럭키세븐벳"] }\n'
    pipeline = Pipeline(load_policy(write(tmp_path, body)))
    verdict = pipeline.judge_fields(MessageFields("럭 키 세 븐 벳 신규 가입"))
    assert "ILLEGAL_GAMBLING" in verdict.symbol_names()


def test_check_can_be_disabled(tmp_path: Path) -> None:
    pipeline = Pipeline(load_policy(write(tmp_path, "[checks.urls]\nenabled = false\n")))
    assert pipeline.default.disabled == {"urls": "disabled by policy"}
    assert "URL_SHORTENER" not in pipeline.judge_fields(MessageFields("bit.ly/x")).symbol_names()


@pytest.mark.parametrize(
    "body",
    [
        '[actions]\nlabel = "low"\n',
        "this is not toml = = =",
        "[limits]\nmax_text_chars = -1\n",
        "[groups.url]\nmax_score = -3\n",
    ],
)
def test_invalid_global_sections_are_config_errors(tmp_path: Path, body: str) -> None:
    with pytest.raises(ConfigError):
        load_policy(write(tmp_path, body))


def test_missing_policy_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_policy(tmp_path / "nope.toml")


def test_per_account_named_policy(tmp_path: Path) -> None:
    body = '[accounts."STRICT-1"]\npolicy = "strict"\n'
    pipeline = Pipeline(load_policy(write(tmp_path, body)))
    text = "택배 주소 확인 bit.ly/3xYz 급하게 확인 부탁 kbstar-secure.com"
    normal = pipeline.judge_fields(MessageFields(text, account="OTHER"))
    strict = pipeline.judge_fields(MessageFields(text, account="STRICT-1"))
    assert strict.policy == "strict" and normal.policy == "default"
    assert strict.score == pytest.approx(normal.score)
    assert strict.action.severity >= normal.action.severity


def test_unknown_policy_for_account_falls_back_to_default(tmp_path: Path) -> None:
    body = '[accounts."X"]\npolicy = "no-such-policy"\n'
    pipeline = Pipeline(load_policy(write(tmp_path, body)))
    assert pipeline.judge_fields(MessageFields("안녕하세요", account="X")).policy == "default"


def test_shipped_policy_names_every_symbol_and_nothing_else() -> None:
    data = tomllib.loads(default_policy_text())
    declared = {c.name: {s.name for s in c.symbols} for c in CHECKS}
    for check_name, symbols in declared.items():
        in_toml = set(data["checks"][check_name]["symbols"])
        assert in_toml == symbols, check_name
    groups = {s.group for c in CHECKS for s in c.symbols}
    assert groups <= set(data["groups"])
    assert Pipeline(load_policy()).default.disabled == {}


class NeedsUrls(Check[NoOptions]):
    name = "needs_urls"
    symbols = (SymbolDef("NEEDS_URLS_RAN", 1.0, "test", "ran"),)
    requires = ("urls",)

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        yield Hit("NEEDS_URLS_RAN", ctx.urls[0].host)


def test_check_with_absent_inputs_is_skipped() -> None:
    pipeline = Pipeline(load_policy(), checks=(NeedsUrls,))
    assert pipeline.judge_fields(MessageFields("링크 없는 문자")).symbol_names() == []
    with_link = pipeline.judge_fields(MessageFields("확인 https://example.com/a"))
    assert with_link.symbol_names() == ["NEEDS_URLS_RAN"]
