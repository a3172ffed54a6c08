"""The source registry: portals as configuration (YAML), validated at start.

`load_registry(path)` reads a YAML file (see `sources.yml`), substitutes `${VAR}` /
`${VAR:-default}` from the environment, and refuses at start, with file:line and reason,
an unknown template, a duplicate source name, a host outside the allow-list, a loopback or
private host without `allow_private: true`, and malformed values.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml

from scrapers.text import keyword_pattern, match_key

TEMPLATES = ("thanhhoa_portal", "baothanhhoa", "dangcongsan", "generic")
DEFAULT_SOURCES = Path(__file__).resolve().parent / "sources.yml"
SAMPLE_SOURCES = Path(__file__).resolve().parent / "sample_sources.yml"

DEFAULT_KEYWORDS = [
    "quốc phòng", "an ninh", "QP-AN", "QPAN", "QP", "ANTT", "ANTQ", "an ninh trật tự",
    "quân sự", "quân đội", "tuyển quân", "nhập ngũ", "giao quân", "dân quân", "tự vệ",
    "dự bị động viên", "diễn tập", "phòng thủ", "công an", "biên phòng", "trật tự",
    "PCLB", "TKCN", "cứu nạn", "bão", "lụt bão", "tội phạm", "bảo vệ Tổ quốc",
]


class RegistryError(ValueError):
    """A registry that cannot be used: message is 'file:line: reason'."""

    def __init__(self, path: str | Path, line: int | None, reason: str):
        self.path, self.line, self.reason = str(path), line, reason
        super().__init__(f"{path}:{line if line is not None else '?'}: {reason}")


# -- YAML with line numbers ----------------------------------------------------------------
class LDict(dict):
    line: int = 0
    key_lines: dict


class LList(list):
    line: int = 0
    item_lines: list


class LStr(str):
    line: int = 0


def _loader(path: Path):
    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node):
        out = LDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for knode, vnode in node.value:
            key = loader.construct_object(knode, deep=True)
            if key in out:
                raise RegistryError(path, knode.start_mark.line + 1, f"duplicate key {key!r}")
            out[key] = loader.construct_object(vnode, deep=True)
            out.key_lines[key] = vnode.start_mark.line + 1
        return out

    def sequence(loader, node):
        out = LList(loader.construct_object(n, deep=True) for n in node.value)
        out.line = node.start_mark.line + 1
        out.item_lines = [n.start_mark.line + 1 for n in node.value]
        return out

    def string(loader, node):
        s = LStr(loader.construct_scalar(node))
        s.line = node.start_mark.line + 1
        return s

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    Loader.add_constructor("tag:yaml.org,2002:str", string)
    return Loader


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


# -- model ---------------------------------------------------------------------------------
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


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def host_matches(host: str, patterns) -> bool:
    host = (host or "").lower().rstrip(".")
    return any(host == p or fnmatch.fnmatchcase(host, p) for p in patterns)


# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64, well-known
# and local-use): judged by that IPv4 address, like the mapped, 6to4 and Teredo forms
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# special-purpose IPv4 ranges that `is_global` of the Python in use may still call global (3.11
# does so for most of 192.0.0.0/24): IETF protocol assignments, the deprecated 6to4 relay anycast,
# carrier-grade NAT
_NOT_PUBLIC = tuple(ipaddress.ip_network(n) for n in ("192.0.0.0/24", "192.88.99.0/24", "100.64.0.0/10"))


def is_public_address(address: str) -> bool:
    """A globally routable unicast address: the standard library's `is_global` (every IANA
    special-purpose range out: private, loopback, link-local and the cloud metadata service,
    carrier-grade NAT 100.64.0.0/10, benchmarking, documentation, reserved), 192.0.0.0/24 and
    192.88.99.0/24 whatever the Python version says, no multicast, and an IPv4 address inside an IPv6 one judged as the IPv4 address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # a scope id (fe80::1%eth0) is not part of it
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped or ip.sixtofour or ip.teredo:
            ip = ip.ipv4_mapped or ip.sixtofour or ip.teredo[1]
        elif any(ip in net for net in _NAT64):
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast and not any(ip in net for net in _NOT_PUBLIC if net.version == ip.version)


def is_private_host(host: str) -> bool:
    """A host the crawler may not reach without `allow_private`: a local name, or an address
    literal that is not public. A name is judged at connection time, by the address actually
    connected to (scrapers.fetch), never by a lookup done beforehand."""
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        return not is_public_address(host.strip("[]"))
    except ValueError:
        return False


# -- loading -------------------------------------------------------------------------------
def load_registry(path: str | Path = DEFAULT_SOURCES) -> Registry:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(path, None, f"cannot read: {exc}") from exc
    try:
        doc = yaml.load(text, Loader=_loader(path))  # noqa: S506 - SafeLoader subclass
    except RegistryError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RegistryError(path, mark.line + 1 if mark else None, f"invalid YAML: {exc}") from exc
    return _build(path, doc)


def _build(path: Path, doc) -> Registry:
    def err(line, reason):
        return RegistryError(path, line, reason)

    if not isinstance(doc, dict):
        raise err(1, "top level must be a mapping")
    doc = _subst(path, doc)
    kl = getattr(doc, "key_lines", {})
    known_top = {"user_agent", "allowed_hosts", "defaults", "relevance", "templates", "sources", "archives"}
    for k in doc:
        if k not in known_top:
            raise err(kl.get(k), f"unknown top-level key {k!r}")
    ua = doc.get("user_agent")
    if not isinstance(ua, str) or not re.search(r"https?://|@", ua):
        raise err(kl.get("user_agent", 1), "user_agent must be a string with a contact URL or e-mail")
    allowed = doc.get("allowed_hosts") or []
    if not isinstance(allowed, list) or not all(isinstance(h, str) and h for h in allowed):
        raise err(kl.get("allowed_hosts"), "allowed_hosts must be a list of host patterns")
    allowed = [h.lower() for h in allowed]
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise err(kl.get("defaults"), "defaults must be a mapping")
    base_pol = _politeness(err, defaults.get("politeness") or {}, Politeness(), getattr(defaults, "key_lines", {}).get("politeness"))
    base_rel = _relevance(err, doc.get("relevance"), Relevance(list(DEFAULT_KEYWORDS)), kl.get("relevance"))
    templates = doc.get("templates") or {}
    if not isinstance(templates, dict):
        raise err(kl.get("templates"), "templates must be a mapping")
    for t, conf in templates.items():
        if t not in TEMPLATES:
            raise err(templates.key_lines.get(t), f"unknown template {t!r} (known: {', '.join(TEMPLATES)})")
        if not isinstance(conf, dict):
            raise err(templates.key_lines.get(t), f"template {t!r} config must be a mapping")
    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise err(kl.get("sources", 1), "sources must be a non-empty list")
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for i, s in enumerate(raw_sources):
        line = raw_sources.item_lines[i]
        if not isinstance(s, dict):
            raise err(line, "a source must be a mapping")
        sources.append(_source(err, s, line, seen, allowed, base_pol, base_rel, templates))
    archives = doc.get("archives") or []
    if not isinstance(archives, list):
        raise err(kl.get("archives"), "archives must be a list")
    return Registry(str(path), str(ua), sources, allowed, {k: dict(v) for k, v in templates.items()}, archives)


_SOURCE_KEYS = {"name", "template", "base_url", "unit_id", "discovery", "relevance", "politeness",
                "selectors", "allow_private", "enabled", "description", "notes"}


def _source(err, s, line, seen, allowed, base_pol, base_rel, templates) -> Source:
    kl = s.key_lines
    for k in s:
        if k not in _SOURCE_KEYS:
            raise err(kl.get(k), f"unknown source key {k!r}")
    name = s.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
        raise err(kl.get("name", line), f"source name must be a lowercase identifier, got {name!r}")
    if name in seen:
        raise err(kl.get("name"), f"duplicate source name {name!r} (first at line {seen[name]})")
    seen[name] = kl.get("name", line)
    template = s.get("template")
    if template not in TEMPLATES:
        raise err(kl.get("template", line), f"unknown template {template!r} (known: {', '.join(TEMPLATES)})")
    base_url = s.get("base_url")
    if not isinstance(base_url, str) or urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
        raise err(kl.get("base_url", line), f"base_url must be an http(s) URL, got {base_url!r}")
    allow_private = s.get("allow_private", False)
    if not isinstance(allow_private, bool):
        raise err(kl.get("allow_private"), "allow_private must be true or false")
    enabled = s.get("enabled", True)
    if not isinstance(enabled, bool):
        raise err(kl.get("enabled"), "enabled must be true or false")

    def check_url(url, ln, what):
        if not isinstance(url, str):
            raise err(ln, f"{what} must be a URL string")
        full = urljoin(base_url, url)
        parts = urlsplit(full)
        if parts.scheme not in ("http", "https"):
            raise err(ln, f"{what} {full!r}: only http(s) URLs are fetched")
        host = (parts.hostname or "").lower()
        if not host_matches(host, allowed):
            raise err(ln, f"host {host!r} of {what} is outside the allow-list (allowed_hosts)")
        if is_private_host(host) and not allow_private:
            raise err(ln, f"host {host!r} of {what} is loopback/private: set allow_private: true (sample sources only)")
        return full

    base_url = check_url(base_url, kl.get("base_url"), "base_url")
    unit_id = s.get("unit_id")
    if unit_id is not None:
        unit_id = str(unit_id)
        if not re.fullmatch(r"\d{2}(\.\d{3}(\.\d{5})?|\.\d{5})?", unit_id):
            raise err(kl.get("unit_id"), f"unit_id {unit_id!r} is not a gazetteer id like '38' or '38.395'")
    disc = s.get("discovery") or {}
    if not isinstance(disc, dict):
        raise err(kl.get("discovery", line), "discovery must be a mapping")
    dkl = getattr(disc, "key_lines", {})
    for k in disc:
        if k not in ("list_pages", "rss"):
            raise err(dkl.get(k), f"unknown discovery key {k!r}")
    list_pages = []
    lps = disc.get("list_pages") or []
    if not isinstance(lps, list):
        raise err(dkl.get("list_pages"), "list_pages must be a list")
    for j, lp in enumerate(lps):
        ln = lps.item_lines[j]
        if isinstance(lp, str):
            lp = {"url": lp}
        if not isinstance(lp, dict):
            raise err(ln, "a list page is a URL or a mapping with url/pagination/max_pages")
        lkl = getattr(lp, "key_lines", {})
        for k in lp:
            if k not in ("url", "pagination", "first_page", "max_pages"):
                raise err(lkl.get(k, ln), f"unknown list page key {k!r}")
        url = check_url(lp.get("url"), lkl.get("url", ln), "list page")
        pag = lp.get("pagination")
        if pag is not None and (not isinstance(pag, str) or "{page}" not in pag):
            raise err(lkl.get("pagination", ln), "pagination must be a pattern containing {page}")
        mp = lp.get("max_pages", 10)
        fp = lp.get("first_page", 1)
        if not isinstance(mp, int) or isinstance(mp, bool) or mp < 1:
            raise err(lkl.get("max_pages", ln), f"max_pages must be a positive integer, got {mp!r}")
        if not isinstance(fp, int) or isinstance(fp, bool) or fp < 0:
            raise err(lkl.get("first_page", ln), f"first_page must be an integer >= 0, got {fp!r}")
        if pag:
            check_url(urljoin(url, pag.replace("{url}", url).replace("{page}", "2")), lkl.get("pagination", ln), "pagination")
        list_pages.append(ListPage(url, pag, fp, mp))
    rss = []
    feeds = disc.get("rss") or []
    if not isinstance(feeds, list):
        raise err(dkl.get("rss"), "rss must be a list of feed URLs")
    for j, f in enumerate(feeds):
        rss.append(check_url(f, feeds.item_lines[j], "rss feed"))
    if not list_pages and not rss:
        raise err(kl.get("discovery", line), f"source {name!r} has no discovery (list_pages or rss)")
    pol = _politeness(err, s.get("politeness") or {}, base_pol, kl.get("politeness"))
    rel = _relevance(err, s.get("relevance"), base_rel, kl.get("relevance"))
    selectors = dict(templates.get(template) or {})
    sel = s.get("selectors") or {}
    if not isinstance(sel, dict):
        raise err(kl.get("selectors"), "selectors must be a mapping")
    selectors.update(sel)
    for key in ("article_url_pattern",):
        if key in selectors:
            try:
                re.compile(selectors[key])
            except re.error as exc:
                raise err(kl.get("selectors", line), f"{key} is not a valid regex: {exc}") from exc
    return Source(name, template, base_url, unit_id, list_pages, rss, rel, pol, selectors,
                  allow_private, enabled, line)


def _politeness(err, conf, base: Politeness, line) -> Politeness:
    if not isinstance(conf, dict):
        raise err(line, "politeness must be a mapping")
    kl = getattr(conf, "key_lines", {})
    out = Politeness(**base.__dict__)
    types = {"delay": float, "timeout": float, "deadline": float, "backoff": float, "retry_after_cap": float,
             "concurrency": int, "retries": int, "max_body_bytes": int, "max_redirects": int}
    for k, v in conf.items():
        if k not in types:
            raise err(kl.get(k, line), f"unknown politeness key {k!r}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (types[k] is int and not isinstance(v, int)):
            raise err(kl.get(k, line), f"politeness.{k} must be a {types[k].__name__}, got {v!r}")
        if v < 0 or (k in ("concurrency", "max_body_bytes", "timeout", "deadline") and v <= 0):
            raise err(kl.get(k, line), f"politeness.{k} out of range: {v!r}")
        if k == "concurrency" and v > 4:
            raise err(kl.get(k, line), "politeness.concurrency above 4 per host is not polite")
        setattr(out, k, types[k](v))
    return out


def _relevance(err, conf, base: Relevance, line) -> Relevance:
    if conf is None:
        return base
    if not isinstance(conf, dict):
        raise err(line, "relevance must be a mapping (keywords, extra_keywords, exclude, fields)")
    kl = getattr(conf, "key_lines", {})
    for k in conf:
        if k not in ("keywords", "extra_keywords", "exclude", "fields"):
            raise err(kl.get(k, line), f"unknown relevance key {k!r}")
    for k in ("keywords", "extra_keywords", "exclude", "fields"):
        v = conf.get(k)
        if v is not None and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
            raise err(kl.get(k, line), f"relevance.{k} must be a list of strings")
    fields = conf.get("fields") or base.fields
    for f in fields:
        if f not in ("title", "lead"):
            raise err(kl.get("fields", line), f"relevance field {f!r} must be title or lead")
    kws = list(conf.get("keywords") or base.keywords) + list(conf.get("extra_keywords") or [])
    return Relevance(kws, list(conf.get("exclude") or base.exclude), list(fields))


def _env_value(name: str) -> str | None:
    """A `${NAME}` of the registry. The sample portal's port is checked and, unset, derived:
    QPAN_PG_PORT + 10 everywhere (`make run`, `python -m scrapers.portal_server`, this registry),
    because the port is part of every sample article's URL, its key."""
    if name == "QPAN_SAMPLE_PORT":
        from qpan.core.config import sample_port

        return str(sample_port())
    return os.environ.get(name)


def _subst(path, obj):
    if isinstance(obj, LStr) or isinstance(obj, str):
        line = getattr(obj, "line", None)

        def rep(m):
            val = _env_value(m.group(1))
            if val is None or val == "":
                if m.group(2) is not None:
                    return m.group(2)
                raise RegistryError(path, line, f"environment variable {m.group(1)} is not set")
            return val

        new = LStr(_ENV.sub(rep, obj))
        new.line = line or 0
        return new
    if isinstance(obj, LDict):
        out = LDict((k, _subst(path, v)) for k, v in obj.items())
        out.line, out.key_lines = obj.line, obj.key_lines
        return out
    if isinstance(obj, LList):
        out = LList(_subst(path, v) for v in obj)
        out.line, out.item_lines = obj.line, obj.item_lines
        return out
    return obj
