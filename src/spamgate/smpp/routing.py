"""Which upstream link carries a message: pure routing (no I/O, no clock).

The order of decisions for one recipient:

1. its carrier from the imported number-to-carrier table (``CarrierTable``; numbers are portable,
   so a prefix alone is not enough), else
2. the longest matching prefix rule (``prefixes``, e.g. ``{"0101": "SKT"}``), else
3. the ``default`` carrier.

Within the carrier, one of its links that is up is drawn at random by ``weight`` (load sharing).
When none of them is up, the carrier's ``fallback`` carrier is tried (one hop; e.g. a relay may
hand SKT traffic to a KT link while its SKT links are down), then the default carrier. ``None``
means no link can take the message now (the caller keeps it and retries).

``CarrierTable`` is memory-compact: two sorted numpy arrays (numbers as int64, carrier codes as
uint8), about 9 octets a number, looked up by binary search. Numbers are normalised to national
digits (``+82 10-1234-5678`` → ``01012345678``); the leading 0 is implied in the stored int.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "CarrierTable",
    "Route",
    "RouteTable",
    "load_carrier_csv",
    "normalise_number",
]

_MAX_CARRIERS: Final = 255


def normalise_number(value: str) -> str | None:
    """National digits of a Korean number (``01012345678``), or None when it is not one."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if value.strip().startswith("+") or (digits.startswith("82") and not digits.startswith("0")):
        if not digits.startswith("82"):
            return None
        digits = "0" + digits[2:]
    if not digits.startswith("0") or not 8 <= len(digits) <= 12 or not digits.isascii():
        return None
    return digits


class CarrierTable:
    """Number → carrier name for ported numbers; see the module docstring."""

    def __init__(
        self,
        numbers: npt.NDArray[np.int64],
        codes: npt.NDArray[np.uint8],
        names: Sequence[str],
    ) -> None:
        if numbers.shape != codes.shape:
            raise ValueError("numbers and codes differ in length")
        order = np.argsort(numbers, kind="stable")
        self._numbers = numbers[order]
        self._codes = codes[order]
        self.names = tuple(names)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> CarrierTable:
        """Build from (number, carrier) pairs; the last pair for a number wins."""
        latest: dict[int, str] = {}
        for number, carrier in pairs:
            national = normalise_number(number)
            if national is None:
                raise ValueError(f"{number!r} is not a Korean phone number")
            latest[int(national)] = carrier
        names = sorted(set(latest.values()))
        if len(names) > _MAX_CARRIERS:
            raise ValueError(f"more than {_MAX_CARRIERS} carriers")
        index = {name: i for i, name in enumerate(names)}
        numbers = np.fromiter(latest.keys(), dtype=np.int64, count=len(latest))
        codes = np.fromiter((index[c] for c in latest.values()), dtype=np.uint8, count=len(latest))
        return cls(numbers, codes, names)

    def __len__(self) -> int:
        return int(self._numbers.shape[0])

    def carrier_of(self, number: str) -> str | None:
        national = normalise_number(number)
        if national is None or not len(self):
            return None
        key = int(national)
        i = int(np.searchsorted(self._numbers, key))
        if i < len(self) and int(self._numbers[i]) == key:
            return self.names[int(self._codes[i])]
        return None

    def save(self, path: Path) -> None:
        """Write the table as an ``.npz`` snapshot (no pickle)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            np.savez(fh, numbers=self._numbers, codes=self._codes, names=np.array(self.names))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> CarrierTable:
        with np.load(path, allow_pickle=False) as data:
            names = [str(n) for n in data["names"]]
            return cls(data["numbers"].astype(np.int64), data["codes"].astype(np.uint8), names)


def load_carrier_csv(path: Path) -> tuple[CarrierTable, list[str]]:
    """Read ``number,carrier`` rows (a header row is allowed); returns the table and the errors.

    A bad row is reported (row number and why) and skipped; it never stops the import.
    """
    pairs: list[tuple[str, str]] = []
    errors: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row_no, row in enumerate(csv.reader(fh), start=1):
            if not row or not "".join(row).strip():
                continue
            if row_no == 1 and row[0].strip().lower() in ("number", "msisdn"):
                continue
            if len(row) < 2 or not row[1].strip():
                errors.append(f"row {row_no}: expected number,carrier")
                continue
            if normalise_number(row[0]) is None:
                errors.append(f"row {row_no}: {row[0][:20]!r} is not a Korean phone number")
                continue
            pairs.append((row[0], row[1].strip()))
    return CarrierTable.from_pairs(pairs), errors


@dataclass(frozen=True, slots=True)
class Route:
    """One upstream link as routing sees it."""

    name: str
    carrier: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.weight < 0:
            raise ValueError(f"route {self.name}: weight must not be negative")


@dataclass(slots=True)
class RouteTable:
    """Routes plus the rules that pick a carrier (see the module docstring)."""

    routes: Sequence[Route]
    prefixes: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None
    fallback: Mapping[str, str] = field(default_factory=dict)
    carriers: CarrierTable | None = None
    _by_carrier: dict[str, list[Route]] = field(init=False, default_factory=dict)
    _prefix_lengths: list[int] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if not self.routes:
            raise ValueError("a route table needs at least one route")
        names = [r.name for r in self.routes]
        if len(set(names)) != len(names):
            raise ValueError("route names must be unique")
        for route in self.routes:
            self._by_carrier.setdefault(route.carrier, []).append(route)
        if self.default is None:
            self.default = self.routes[0].carrier
        for carrier in [self.default, *self.prefixes.values(), *self.fallback.values()]:
            if carrier not in self._by_carrier:
                raise ValueError(f"carrier {carrier!r} has no route")
        self._prefix_lengths = sorted({len(p) for p in self.prefixes}, reverse=True)

    def carrier_for(self, recipient: str) -> str:
        """The carrier a recipient belongs to (table, then prefix, then default)."""
        if self.carriers is not None:
            carrier = self.carriers.carrier_of(recipient)
            if carrier is not None and carrier in self._by_carrier:
                return carrier
        national = normalise_number(recipient) or recipient
        for length in self._prefix_lengths:
            carrier = self.prefixes.get(national[:length])
            if carrier is not None:
                return carrier
        assert self.default is not None
        return self.default

    def choose(
        self,
        recipient: str,
        usable: Callable[[str], bool],
        rng: random.Random | None = None,
    ) -> Route | None:
        """A usable route for ``recipient`` drawn by weight, with failover; None if none is."""
        carrier = self.carrier_for(recipient)
        tried: list[str] = []
        for candidate in (carrier, self.fallback.get(carrier), self.default):
            if candidate is None or candidate in tried:
                continue
            tried.append(candidate)
            route = self._draw(self._by_carrier[candidate], usable, rng)
            if route is not None:
                return route
        return None

    @staticmethod
    def _draw(
        routes: Sequence[Route], usable: Callable[[str], bool], rng: random.Random | None
    ) -> Route | None:
        up = [r for r in routes if usable(r.name)]
        if not up:
            return None
        total = sum(r.weight for r in up)
        if total <= 0:
            return up[0]
        pick = (rng or random).random() * total
        for route in up:
            pick -= route.weight
            if pick < 0:
                return route
        return up[-1]
