"""Text preparation: normalisation against Korean spam obfuscation, and URL extraction."""

from spamgate.text.normalize import NormalizedText, normalize, normalize_text
from spamgate.text.urls import SHORTENER_DOMAINS, ExtractedUrl, extract_urls

__all__ = [
    "SHORTENER_DOMAINS",
    "ExtractedUrl",
    "NormalizedText",
    "extract_urls",
    "normalize",
    "normalize_text",
]
