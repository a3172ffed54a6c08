"""The registry's model: sources, their discovery, relevance and politeness, and the allow-list."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from scrapers.hosts import host_matches, host_of
from scrapers.text import keyword_pattern, match_key


@dataclass
class Politeness:
    delay: float = 1.0
    concurrency: int = 1
    timeout: float = 20.0  # per connect / read
    deadline: float = 120.0  # for a whole response, headers and body (a drip-fed one is cut here)
    retries: int = 3
    backoff: float = 1.0
    retry_after_cap: float = 60.0
    max_body_bytes: int = 5_000_000
    max_redirects: int = 5


@dataclass
class ListPage:
    url: str
    pagination: str | None = None  # pattern with {page}, absolute or relative to url
    first_page: int = 1
    max_pages: int = 10

    def page_url(self, n: int) -> str:
        if n <= self.first_page or not self.pagination:
            return self.url
        return urljoin(self.url, self.pagination.replace("{url}", self.url).replace("{page}", str(n)))


@dataclass
class Relevance:
    keywords: list[str]
    exclude: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=lambda: ["title", "lead"])

    def __post_init__(self):
        self._kw = keyword_pattern(self.keywords)
        self._ex = keyword_pattern(self.exclude)

    def decide(self, title: str | None, lead: str | None = None) -> tuple[bool, str]:
        """(relevant, reason). Word boundaries and diacritics are kept: 'báo' is not 'bão'."""
        parts = {"title": title or "", "lead": lead or ""}
        text = match_key(" \n ".join(parts[f] for f in self.fields if f in parts))
        ex = self._ex.search(text)
        if ex:
            return False, f"excluded by {ex.group(0)!r}"
        m = self._kw.search(text)
        if m:
            return True, f"keyword {m.group(0)!r}"
        return False, "no QP-AN keyword in " + "/".join(self.fields)


@dataclass
class Source:
    name: str
    template: str
    base_url: str
    unit_id: str | None
    list_pages: list[ListPage]
    rss: list[str]
    relevance: Relevance
    politeness: Politeness
    selectors: dict[str, Any]
    allow_private: bool = False
    enabled: bool = True
    line: int = 0

    @property
    def host(self) -> str:
        return host_of(self.base_url)


@dataclass
class Registry:
    path: str
    user_agent: str
    sources: list[Source]
    allowed_hosts: list[str]
    templates: dict[str, dict]
    # the `archives:` entries as read (with their lines): scrapers.archive_registry validates them
    archive_entries: list = field(default_factory=list)

    def get(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def host_allowed(self, host: str) -> bool:
        return host_matches(host, self.allowed_hosts)

    def private_allowed(self, host: str) -> bool:
        return any(s.allow_private and s.host == host for s in self.sources)
