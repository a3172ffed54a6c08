"""patterns.yml compiled into regexes, once per process."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .normalize import fold

PATTERNS_PATH = Path(__file__).with_name("patterns.yml")


def phrase_re(phrase: str) -> str:
    """A cue phrase as a regex: flexible spaces, commas and dashes; "re:" is raw."""
    if phrase.startswith("re:"):
        return phrase[3:]
    p = fold(phrase).strip()
    out = []
    for tok in re.split(r"(\s*,\s*|\s*[-–—]\s*|\s+)", p):
        if not tok:
            continue
        if tok.strip() == ",":
            out.append(r"\s*,\s*")
        elif tok.strip() in ("-", "–", "—"):
            out.append(r"\s*[-–—]\s*")
        elif tok.isspace():
            out.append(r"\s+")
        else:
            out.append(re.escape(tok))
    return "".join(out)


def words_re(phrases: list[str]) -> str:
    """Plain phrases as whole words; "re:" phrases as written. One boundary check around
    the whole alternation: per-alternative look-behinds make scans ~10x slower."""
    plain = [phrase_re(p) for p in phrases if not p.startswith("re:")]
    raw = [p[3:] for p in phrases if p.startswith("re:")]
    alts = []
    if plain:
        alts.append(r"(?<!\w)(?:" + "|".join(sorted(plain, key=len, reverse=True)) + r")(?!\w)")
    alts += [f"(?:{r})" for r in raw]
    return "|".join(alts)


def any_re(phrases: list[str] | None) -> re.Pattern | None:
    if not phrases:
        return None
    return re.compile(words_re(phrases))


@dataclass
class NumberRule:
    index: int
    indicator: str | None
    heads: list[str]
    kinds: frozenset[str]
    left: re.Pattern | None = None
    left_near: re.Pattern | None = None
    right: re.Pattern | None = None
    clause: re.Pattern | None = None
    not_left: re.Pattern | None = None
    not_right: re.Pattern | None = None
    not_clause: re.Pattern | None = None
    qualifiers: str | None = None
    confidence: float = 0.85


@dataclass
class FlagRule:
    indicator: str
    value: object
    pattern: re.Pattern
    requires: tuple[str, ...] = ()  # literal substrings without which the rule cannot match
    confidence: float = 0.8


@dataclass
class Rules:
    version: str
    number_rules: list[NumberRule]
    head_re: re.Pattern                      # all plain heads, longest first, one group each
    head_rules: dict[str, list[int]]         # group name -> rule indexes (incl. prefix heads)
    generic_rules: list[tuple[re.Pattern, int]]  # rules with regex heads
    filler_re: re.Pattern
    flag_rules: list[FlagRule]
    plan_re: re.Pattern
    plan_para_re: re.Pattern
    stop_re: re.Pattern
    award_bodies: list[re.Pattern]
    award_fields: list[tuple[str, re.Pattern]]
    trainee_groups: re.Pattern


# Between a "left_near" cue and its figure only these may stand ("có hơn 1.000").
_NEAR_GAP = r"[\s:,(]*(?:(?:là|được|có|gồm|với|tổng cộng|hơn|trên|gần|khoảng|dưới|tới|lên)[\s:,]+)*$"


def near_re(phrases: list[str] | None) -> re.Pattern | None:
    """A cue that ends right before the figure."""
    if not phrases:
        return None
    return re.compile(f"(?:{words_re(phrases)}){_NEAR_GAP}")


def _rule(i: int, d: dict) -> NumberRule:
    return NumberRule(
        index=i,
        indicator=d.get("indicator"),
        heads=list(d["head"]),
        kinds=frozenset(d.get("kinds") or ["count"]),
        left=any_re(d.get("left")),
        left_near=near_re(d.get("left_near")),
        right=any_re(d.get("right")),
        clause=any_re(d.get("clause")),
        not_left=any_re(d.get("not_left")),
        not_right=any_re(d.get("not_right")),
        not_clause=any_re(d.get("not_clause")),
        qualifiers=d.get("qualifiers"),
        confidence=float(d.get("confidence", 0.85)),
    )


def compile_rules(data: dict) -> Rules:
    rules = [_rule(i, d) for i, d in enumerate(data["number_rules"])]
    plain: dict[str, set[int]] = {}
    generic: list[tuple[re.Pattern, int]] = []
    for r in rules:
        for h in r.heads:
            if h.startswith("re:"):
                generic.append((re.compile(h[3:]), r.index))
            else:
                plain.setdefault(fold(h).strip(), set()).add(r.index)
    def whole(p: str) -> str:
        return rf"{phrase_re(p)}(?!\w)"

    # A head also admits the rules of every shorter head it starts with ("vụ tai nạn"
    # is also a "vụ"), so one regex match finds all candidate rules.
    phrases = sorted(plain, key=len, reverse=True)
    head_rules: dict[str, list[int]] = {}
    alts = []
    for gi, p in enumerate(phrases):
        ids = set(plain[p])
        for q in phrases:
            if q != p and re.match(whole(q), p):
                ids |= plain[q]
        head_rules[f"h{gi}"] = sorted(ids)
        alts.append(f"(?P<h{gi}>{whole(p)})")
    flags = []
    for d in data.get("flag_rules", []):
        for p in d["patterns"]:
            flags.append(FlagRule(d["indicator"], d["value"], re.compile(words_re([p])),
                                  tuple(d.get("requires") or ()), float(d.get("confidence", 0.8))))
    fields = [(name, any_re(ps)) for name, ps in (data.get("award_fields") or {}).items()]
    return Rules(
        version=str(data.get("version", "rules")),
        number_rules=rules,
        head_re=re.compile("|".join(alts)),
        head_rules=head_rules,
        generic_rules=generic,
        filler_re=re.compile(r"(?:" + "|".join(phrase_re(f) for f in data.get("fillers", [])) + r")\s+"),
        flag_rules=flags,
        plan_re=any_re(data["plan_cues"]),
        plan_para_re=any_re(data["plan_paragraph_cues"]),
        stop_re=re.compile(r"\n[ \t]*(?:" + "|".join(phrase_re(s) for s in data["stop_lines"]) + r")(?:[ \t.]*$|[ \t]*:)", re.M),
        award_bodies=[re.compile(words_re([p])) for p in data.get("award_bodies", [])],
        award_fields=fields,
        trainee_groups=any_re(data.get("trainee_groups")),
    )


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    with open(PATTERNS_PATH, encoding="utf-8") as f:
        return compile_rules(yaml.safe_load(f))
