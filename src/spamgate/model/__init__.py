"""The learning side of spamgate: training, artifacts, scoring and evaluation.

* :mod:`~spamgate.model.features` — hashed char_wb/word n-grams for a whole batch in numpy.
* :mod:`~spamgate.model.data` — reading labelled CSVs, de-duplication, the bucket split.
* :mod:`~spamgate.model.train` — the content model (spam vs ham, smishing vs spam), calibrated.
* :mod:`~spamgate.model.artifact` — ``model.json`` + ``weights.npz``, verified, never pickled.
* :mod:`~spamgate.model.scoring` — :class:`ContentModel`: batched probabilities, explanations.
* :mod:`~spamgate.model.url` — the lexical phishing-URL model and blocklists.
* :mod:`~spamgate.model.evaluate` — metrics, plots and the HTML report.
"""

from spamgate.model.artifact import ModelError
from spamgate.model.scoring import ContentModel, ContentScore, default_model_path
from spamgate.model.url import Blocklist, UrlModel, default_url_model_path

__all__ = [
    "Blocklist",
    "ContentModel",
    "ContentScore",
    "ModelError",
    "UrlModel",
    "default_model_path",
    "default_url_model_path",
]
