"""Links judged by the lexical URL model, and links on a blocklist.

The pipeline scores every link of a batch with the URL model in one call and publishes the
probabilities as the fact ``url_phishing`` (canonical URL → probability) before the checks run;
this check turns them into ``URL_PHISHING`` (the most suspicious link is the evidence). Shortener
links are not judged by the model: their text says nothing about where they lead (the ``urls``
check already marks them).

Blocklists are read once, when the policy is compiled: files named in ``blocklist_files`` (one
domain or URL a line, ``#`` comments) plus ``blocked`` entries written in the policy itself. A file
that cannot be read disables this check with a logged error, as any invalid policy section does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import Field

from spamgate.checks.base import Check, Hit, Options, SymbolDef
from spamgate.checks.context import CheckContext
from spamgate.domain.verdict import Action
from spamgate.errors import InputError
from spamgate.model.url import Blocklist

__all__ = ["URL_SCORES_FACT", "UrlModelCheck", "UrlModelOptions"]

GROUP = "url"
#: The fact the pipeline publishes: canonical URL → phishing probability.
URL_SCORES_FACT = "url_phishing"


class UrlModelOptions(Options):
    phishing_threshold: float = Field(default=0.97, gt=0, le=1)
    blocklist_files: list[str] = Field(default_factory=list)
    blocked: list[str] = Field(default_factory=list)


class UrlModelCheck(Check[UrlModelOptions]):
    name = "url_model"
    symbols = (
        SymbolDef("URL_PHISHING", 5.0, GROUP, "a link the URL model judges to be phishing"),
        SymbolDef(
            "URL_BLOCKLISTED",
            10.0,
            GROUP,
            "a link to a blocklisted domain or URL",
            Action.SPAMBOX,
        ),
    )
    options_model = UrlModelOptions
    requires = ("urls",)

    def __init__(self, options: UrlModelOptions) -> None:
        super().__init__(options)
        try:
            listed = Blocklist.from_files(Path(p) for p in options.blocklist_files)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        extra = Blocklist.from_lines(options.blocked)
        self.blocklist = Blocklist(listed.domains | extra.domains, listed.urls + extra.urls)

    def check(self, ctx: CheckContext) -> Iterable[Hit]:
        if not ctx.urls:
            return
        if len(self.blocklist):
            for url in ctx.urls:
                entry = self.blocklist.match(url)
                if entry is not None:
                    yield Hit("URL_BLOCKLISTED", entry)
                    break
        scores: Mapping[str, float] | None = ctx.facts.get(URL_SCORES_FACT)
        if not scores:
            return
        worst: tuple[float, str] | None = None
        for url in ctx.urls:
            p = scores.get(url.url)
            if p is not None and not url.is_shortener and (worst is None or p > worst[0]):
                worst = (p, url.host_unicode)
        if worst is not None and worst[0] >= self.options.phishing_threshold:
            yield Hit("URL_PHISHING", f"{worst[1][:40]} p={worst[0]:.2f}")
