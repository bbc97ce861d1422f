"""Catching a campaign before anyone reports it: content bursts and recipient sweeps.

Two kinds of bounded, in-memory state, updated once per message in submission order:

* **Content bursts.** Each message is reduced to a *content key*: its normalised text with
  links, e-mail addresses, @handles, names before ``님``, digits, spacing and symbols removed (so
  per-recipient links, callback numbers and names do not split a campaign), hashed to 8 bytes;
  texts with fewer than 12 letters left are not tracked ("ok", "감사합니다"). Per key the
  tracker counts messages and estimates distinct senders and recipients with K-minimum-values
  sketches (k = 32: exact up to 32, within about 18 % beyond). ``BULK_BURST`` is for the same
  content sent from many different sender numbers (snowshoe spam) or to very many recipients.
* **Recipient sweeps.** Per account (or per sender number when no account is named) the tracker
  keeps the recent distinct recipients (a bounded sorted list): how many there are, how many sit
  next to another one (a sequential range: within ``sequence_gap`` of a neighbour) and how many
  are invalid (impossible per the number plan, or not allocated per the registry's status table).

Windows: two tumbling generations of ``window`` seconds each; a message sees the current and the
previous generation, so everything in the last ``window`` seconds counts (and at most ``2 *
window`` seconds). Memory is bounded by ``max_keys`` content keys and ``max_senders`` sweep
entries per generation (when full, new keys are not tracked until the next generation) and by
``max_recipients`` numbers per sweep entry. Time comes from each message (``submitted_at``), so
replays and tests are deterministic. Only hashes and counts are kept, never a text.

The pipeline hands over a whole batch (:meth:`BurstWindows.observe_many`) before the checks run,
so a shared store (:mod:`spamgate.model.bursts_redis`, several gateway processes, one Redis)
costs one round trip per batch and the check itself stays free of I/O.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from spamgate.text import normalize

__all__ = [
    "MIN_LETTERS",
    "BurstState",
    "BurstTracker",
    "BurstWindows",
    "Observation",
    "SweepState",
    "content_key",
    "key_of",
    "recipient_number",
]

_K = 32
#: Letters a text needs (after masking) to be tracked as content.
MIN_LETTERS = 12
_LINKS = re.compile(
    r"[a-z][a-z0-9+-]*://\S*|www\.\S*|\S*@\S*"
    r"|(?<![\w.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/\S*)?",
    re.IGNORECASE | re.ASCII,
)
_DOTTED = re.compile(r"\.[a-z]", re.IGNORECASE | re.ASCII)
_HONORIFIC_PAD = " .·,*"
_NON_LETTER = re.compile(r"[\W\d_]+")
_MAX_HASH = float(2**64)


def _drop_names(text: str) -> str:
    """Drop the (masked) name before each ``님``/``고객님``/``회원님``: up to four syllables."""
    parts = text.split("님")
    out: list[str] = []
    for part in parts[:-1]:
        core = part.rstrip(_HONORIFIC_PAD)
        if core.endswith(("고객", "회원")):
            core = core[:-2].rstrip(_HONORIFIC_PAD)
        i = len(core)
        while i > 0 and len(core) - i < 4 and ("가" <= core[i - 1] <= "힣" or core[i - 1] in "*○◯"):
            i -= 1
        out.append(core[:i])
    out.append(parts[-1])
    return " ".join(out)


def content_key(normalized: str) -> bytes | None:
    """8-byte key of a normalised text with links, handles, names, digits and non-letters
    removed; ``None`` for texts with fewer than :data:`MIN_LETTERS` letters left ("ok",
    "감사합니다": many people send those, and that is no campaign)."""
    text = normalized
    if "://" in text or "www." in text or "@" in text or _DOTTED.search(text):
        text = _LINKS.sub(" ", text)
    if "님" in text:
        text = _drop_names(text)
    text = _letters_only(text)
    if len(text) < MIN_LETTERS:
        return None
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


@functools.cache
def _letter_table() -> list[int | None]:
    """``str.translate`` table over the BMP: letters kept, everything ``_NON_LETTER`` matches
    dropped (built once, from the regex itself, so the two cannot disagree)."""
    return [None if _NON_LETTER.match(chr(cp)) else cp for cp in range(0x10000)]


def _letters_only(text: str) -> str:
    """``_NON_LETTER.sub("", text)``, about twice as fast: a table lookup per character, and
    the regex only for what lies beyond the BMP (emoji), which the table leaves alone."""
    kept = text.translate(_letter_table())
    if kept and not kept.isalpha():
        kept = _NON_LETTER.sub("", kept)
    return kept


def _h64(value: str) -> int:
    """64-bit hash for the in-process sketches (Python's SipHash: stable within a process; a
    sketch shared between processes, e.g. through Redis, needs a keyed stable hash instead)."""
    return hash(value) & 0xFFFFFFFFFFFFFFFF


@dataclass(slots=True)
class _Kmv:
    """K-minimum-values sketch of 64-bit hashes: distinct-count estimate in bounded space."""

    mins: list[int] = field(default_factory=list)

    def add(self, h: int) -> None:
        mins = self.mins
        if len(mins) == _K and h >= mins[-1]:
            return
        i = bisect.bisect_left(mins, h)
        if i < len(mins) and mins[i] == h:
            return
        mins.insert(i, h)
        if len(mins) > _K:
            mins.pop()

    @staticmethod
    def estimate(*sketches: _Kmv) -> int:
        if len(sketches) == 1:
            merged = sketches[0].mins
        else:
            merged = sorted(set().union(*(s.mins for s in sketches)))[:_K]
        if len(merged) < _K:
            return len(merged)
        return int((_K - 1) / (merged[-1] / _MAX_HASH))


@dataclass(slots=True)
class _Burst:
    messages: int = 0
    senders: _Kmv = field(default_factory=_Kmv)
    recipients: _Kmv = field(default_factory=_Kmv)


@dataclass(slots=True)
class _Sweep:
    numbers: list[int] = field(default_factory=list)  # sorted distinct recipients
    adjacent: int = 0
    invalid: int = 0


@dataclass(frozen=True, slots=True)
class BurstState:
    """What the window holds for a message's content key, this message included."""

    messages: int
    senders: int
    recipients: int


@dataclass(frozen=True, slots=True)
class SweepState:
    """What the window holds for a sending account (or sender), this message included."""

    who: str
    recipients: int
    sequential: int
    invalid: int


_ALONE = BurstState(messages=1, senders=1, recipients=1)


@dataclass(frozen=True, slots=True)
class Observation:
    """One message as the burst windows see it: content key, time and the numbers involved."""

    key: bytes | None
    at: datetime
    sender: str | None
    recipient: str | None
    account: str | None
    recipient_invalid: bool = False


#: What the windows hold for one message: its content and (with a recipient) its sender.
Seen = tuple[BurstState, SweepState | None]


class BurstWindows(Protocol):
    """Sliding-window state for the ``bursts`` check: in memory or shared (Redis)."""

    window: float

    def observe_many(self, batch: Sequence[Observation]) -> list[Seen]:
        """Count a batch of messages in order; the state each message sees includes itself
        and every message before it."""
        ...


def recipient_number(recipient: str) -> int:
    """A recipient's digits as an integer (sequential ranges are neighbours); -1 without any."""
    if recipient.isdecimal():
        return int(recipient)
    digits = "".join(ch for ch in recipient if ch.isdecimal())
    return int(digits) if digits else -1


class BurstTracker:
    """Bounded sliding-window state for ``BULK_BURST`` and ``RECIPIENT_SWEEP``; one per
    pipeline, fed in submission order. A lock makes concurrent batches safe."""

    def __init__(
        self,
        *,
        window: float = 600.0,
        max_keys: int = 200_000,
        max_senders: int = 50_000,
        max_recipients: int = 512,
        sequence_gap: int = 16,
    ) -> None:
        self.window = window
        self.max_keys = max_keys
        self.max_senders = max_senders
        self.max_recipients = max_recipients
        self.sequence_gap = sequence_gap
        self._epoch: int | None = None
        # The current generation's bounds in the zone of the last message: most messages fall
        # inside, and comparing datetimes of one zone is far cheaper than ``timestamp()``.
        self._zone: tzinfo | None = None
        self._lo = self._hi = datetime.min
        self._bursts: tuple[dict[bytes, _Burst], dict[bytes, _Burst]] = ({}, {})
        self._sweeps: tuple[dict[str, _Sweep], dict[str, _Sweep]] = ({}, {})
        self._lock = threading.Lock()

    def _rotate(self, at: datetime) -> None:
        if at.tzinfo is self._zone and self._lo <= at < self._hi:
            return  # still the current generation
        epoch = int(at.timestamp() // self.window)
        if self._epoch is None or epoch > self._epoch + 1:
            self._bursts, self._sweeps = ({}, {}), ({}, {})
        elif epoch == self._epoch + 1:
            self._bursts = (self._bursts[1], {})
            self._sweeps = (self._sweeps[1], {})
        elif epoch < self._epoch:
            return  # a late message: counted in the current generation
        self._epoch = epoch
        zone = at.tzinfo
        if zone is not None:
            self._zone = zone
            self._lo = datetime.fromtimestamp(epoch * self.window, zone)
            self._hi = self._lo + timedelta(seconds=self.window)

    def observe(
        self,
        key: bytes | None,
        *,
        at: datetime,
        sender: str | None,
        recipient: str | None,
        account: str | None,
        recipient_invalid: bool = False,
    ) -> Seen:
        """Count one message and return the window's state for its content and its sender."""
        with self._lock:
            return self._observe(key, at, sender, recipient, account, recipient_invalid)

    def observe_many(self, batch: Sequence[Observation]) -> list[Seen]:
        """:meth:`observe` for a batch, in order, under one lock."""
        with self._lock:
            observe = self._observe
            return [
                observe(o.key, o.at, o.sender, o.recipient, o.account, o.recipient_invalid)
                for o in batch
            ]

    def _observe(
        self,
        key: bytes | None,
        at: datetime,
        sender: str | None,
        recipient: str | None,
        account: str | None,
        recipient_invalid: bool,
    ) -> Seen:
        self._rotate(at)
        state = _ALONE
        if key is not None:
            old, new = self._bursts
            burst = new.get(key)
            if burst is None and len(new) < self.max_keys:
                burst = new[key] = _Burst()
            if burst is not None:
                burst.messages += 1
                if sender:
                    burst.senders.add(_h64(sender))
                if recipient:
                    burst.recipients.add(_h64(recipient))
            previous = old.get(key) if old else None
            if previous is None:
                if burst is not None:
                    state = BurstState(
                        burst.messages,
                        len(burst.senders.mins) if len(burst.senders.mins) < _K
                        else _Kmv.estimate(burst.senders),
                        len(burst.recipients.mins) if len(burst.recipients.mins) < _K
                        else _Kmv.estimate(burst.recipients),
                    )  # fmt: skip
            elif burst is None:
                state = BurstState(
                    previous.messages,
                    _Kmv.estimate(previous.senders),
                    _Kmv.estimate(previous.recipients),
                )
            else:
                state = BurstState(
                    burst.messages + previous.messages,
                    _Kmv.estimate(burst.senders, previous.senders),
                    _Kmv.estimate(burst.recipients, previous.recipients),
                )
        who = account or sender  # accounts are named, senders are digits: no clash in practice
        if not who or recipient is None:
            return state, None
        return state, self._sweep(who, recipient, recipient_invalid)

    def _sweep(self, who: str, recipient: str, invalid: bool) -> SweepState | None:
        old, new = self._sweeps
        entry = new.get(who)
        if entry is None:
            if len(new) >= self.max_senders:
                return None
            entry = new[who] = _Sweep()
            carried = old.get(who)
            if carried is not None:  # the previous generation's recipients still count
                entry.numbers = carried.numbers[-self.max_recipients :]
                entry.adjacent = min(carried.adjacent, len(entry.numbers))
                entry.invalid = min(carried.invalid, len(entry.numbers))
        number = int(recipient) if recipient.isdecimal() else recipient_number(recipient)
        numbers = entry.numbers
        i = bisect.bisect_left(numbers, number)
        if (i == len(numbers) or numbers[i] != number) and len(numbers) < self.max_recipients:
            gap = self.sequence_gap
            near = (i > 0 and number - numbers[i - 1] <= gap) or (
                i < len(numbers) and numbers[i] - number <= gap
            )
            numbers.insert(i, number)
            entry.adjacent += near
            entry.invalid += invalid
        return SweepState(who, len(numbers), entry.adjacent, entry.invalid)


def key_of(text: str) -> bytes | None:
    """Content key of a raw text (normalised here): for tools and tests."""
    return content_key(normalize(text).text)
