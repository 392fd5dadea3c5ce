"""Under what terms a meeting's text may be reused: kremlin.ru publishes under CC BY 4.0
(attribution); other sources name their own terms on their pages, so nothing is
claimed for them. Feeds, downloads and the export say it the same way."""

from __future__ import annotations

from urllib.parse import urlsplit

CC_BY = "https://creativecommons.org/licenses/by/4.0/"


def licence(source_url: str) -> str:
    """The licence URL of a text from this source ("" when the archive cannot say)."""
    host = urlsplit(source_url).hostname or ""
    return CC_BY if host == "kremlin.ru" or host.endswith(".kremlin.ru") else ""
