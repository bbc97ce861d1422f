"""spamgate.smpp's __all__ lists every public name of its modules, and only existing ones."""

from __future__ import annotations

import importlib

import spamgate.smpp

MODULES = ["encoding", "errors", "pdu", "receipt", "session", "udh", "vendor"]


def test_package_all_is_the_union_of_module_alls() -> None:
    names: set[str] = set()
    for name in MODULES:
        module = importlib.import_module(f"spamgate.smpp.{name}")
        for exported in module.__all__:
            assert hasattr(module, exported), f"{name}.{exported}"
        names.update(module.__all__)
    assert set(spamgate.smpp.__all__) == names
    assert len(spamgate.smpp.__all__) == len(names)
    for exported in spamgate.smpp.__all__:
        assert getattr(spamgate.smpp, exported) is not None
