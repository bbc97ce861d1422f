"""Route table: carrier table (ported numbers), prefixes, default, weights and failover."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from spamgate.smpp.routing import (
    CarrierTable,
    Route,
    RouteTable,
    load_carrier_csv,
    normalise_number,
)

ROUTES = [
    Route("skt-a", "SKT", 3.0),
    Route("skt-b", "SKT", 1.0),
    Route("kt-a", "KT"),
    Route("lgu-a", "LGU+"),
]


def _table(**kw: object) -> RouteTable:
    carriers = CarrierTable.from_pairs([("010-1111-2222", "LGU+"), ("+82 10 3333 4444", "KT")])
    defaults: dict[str, object] = {
        "prefixes": {"0101": "KT", "01012": "SKT"},
        "default": "SKT",
        "fallback": {"LGU+": "KT"},
        "carriers": carriers,
    }
    defaults.update(kw)
    return RouteTable(ROUTES, **defaults)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "national"),
    [
        ("010-1234-5678", "01012345678"),
        ("+82 10 1234 5678", "01012345678"),
        ("821012345678", "01012345678"),
        ("02-555-1234", "025551234"),
        ("12345", None),
        ("+1 415 555 0100", None),
        ("", None),
    ],
)
def test_normalise_number(raw: str, national: str | None) -> None:
    assert normalise_number(raw) == national


def test_carrier_for_uses_table_then_longest_prefix_then_default() -> None:
    table = _table()
    assert table.carrier_for("01011112222") == "LGU+"  # ported: the table wins over prefixes
    assert table.carrier_for("+821033334444") == "KT"
    assert table.carrier_for("01012999999") == "SKT"  # longest prefix
    assert table.carrier_for("01019999999") == "KT"
    assert table.carrier_for("0299999999") == "SKT"  # default
    assert table.carrier_for("not a number") == "SKT"


def test_weights_are_roughly_respected() -> None:
    table = _table()
    rng = random.Random(7)
    picks = Counter(
        r.name for _ in range(4000) if (r := table.choose("0299999999", lambda n: True, rng))
    )
    assert set(picks) == {"skt-a", "skt-b"}
    assert 2.5 < picks["skt-a"] / picks["skt-b"] < 3.6


def test_failover_within_carrier_then_fallback_then_default() -> None:
    table = _table()
    down = {"skt-a"}
    route = table.choose("0299999999", lambda n: n not in down)
    assert route is not None and route.name == "skt-b"
    down = {"lgu-a"}
    route = table.choose("01011112222", lambda n: n not in down)
    assert route is not None and route.name == "kt-a"  # LGU+'s fallback
    down = {"lgu-a", "kt-a"}
    route = table.choose("01011112222", lambda n: n not in down)
    assert route is not None and route.carrier == "SKT"  # then the default
    assert table.choose("01011112222", lambda n: False) is None


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RouteTable([])
    with pytest.raises(ValueError, match="no route"):
        RouteTable(ROUTES, prefixes={"010": "NOPE"})
    with pytest.raises(ValueError, match="unique"):
        RouteTable([Route("a", "X"), Route("a", "Y")])
    with pytest.raises(ValueError, match="negative"):
        Route("a", "X", -1.0)
    with pytest.raises(ValueError, match="not a Korean"):
        CarrierTable.from_pairs([("hello", "SKT")])


def test_carrier_csv_import_save_and_load(tmp_path: Path) -> None:
    csv_path = tmp_path / "ported.csv"
    csv_path.write_text(
        "number,carrier\n01011112222,KT\n010-3333-4444,LGU+\nbogus,SKT\n01055556666\n"
        "01011112222,SKT\n",
        "utf-8",
    )
    table, errors = load_carrier_csv(csv_path)
    assert len(table) == 2 and len(errors) == 2
    assert errors[0].startswith("row 4") and errors[1].startswith("row 5")
    assert table.carrier_of("01011112222") == "SKT"  # the last row for a number wins
    snapshot = tmp_path / "numbers" / "carriers.npz"
    table.save(snapshot)
    loaded = CarrierTable.load(snapshot)
    assert loaded.carrier_of("+82-10-3333-4444") == "LGU+"
    assert loaded.carrier_of("01099999999") is None
    assert loaded.carrier_of("junk") is None
