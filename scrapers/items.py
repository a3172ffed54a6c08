"""What the scrapers produce: one parsed article page (the landing store saves it as a row of
raw.articles). Plain data, so that the scrapers depend on no part of qpan."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ParsedArticle:
    """What a template parser gives for one article page."""

    source: str
    url: str
    title: str
    body_text: str
    published_at: datetime | None
    author: str | None = None
    lead: str | None = None
    captions: list[str] = field(default_factory=list)
    body_variant: str = "html"  # html | decoded | rss
    template: str | None = None
    source_unit_id: str | None = None
    page_sha256: str | None = None
    synthetic: bool = False

    @property
    def content_hash(self) -> str:
        text = "\x1f".join([self.title, self.lead or "", self.body_text])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
