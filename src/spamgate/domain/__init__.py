"""Pure domain types: messages, Korean numbers, verdicts and actions. No I/O."""

from spamgate.domain.message import KST, DataCoding, Message, Route, parse_message, parse_time
from spamgate.domain.numbers import NumberInfo, NumberKind, describe_kind, parse_number
from spamgate.domain.verdict import ACTION_ORDER, Action, SymbolResult, Verdict, most_severe

__all__ = [
    "ACTION_ORDER",
    "KST",
    "Action",
    "DataCoding",
    "Message",
    "NumberInfo",
    "NumberKind",
    "Route",
    "SymbolResult",
    "Verdict",
    "describe_kind",
    "most_severe",
    "parse_message",
    "parse_number",
    "parse_time",
]
