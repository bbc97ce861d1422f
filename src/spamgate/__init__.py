"""spamgate: an open anti-illegal-spam platform for the Korean bulk-messaging chain."""

__version__ = "0.1.0"

__all__ = ["__version__"]
