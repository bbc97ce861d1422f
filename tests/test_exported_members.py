"""Every package's __all__ names things that exist (httpx's test_exported_members, adapted)."""

from __future__ import annotations

import importlib
import pkgutil

import spamgate


def test_every_module_all_is_importable() -> None:
    for info in pkgutil.walk_packages(spamgate.__path__, "spamgate."):
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            assert hasattr(module, name), f"{info.name}.__all__ names missing {name}"
