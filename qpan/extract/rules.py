"""patterns.yml compiled into regexes, once per process."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .normalize import fold
from .regex_literals import required_literals

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


# A look-behind with no group inside it: "(?<!\w)", "(?<!đúng )".
_LOOKBEHIND_RE = re.compile(r"\(\?<[!=](?:[^()\\]|\\.)*\)")


def literal_first(rx: str) -> str:
    r"""The same regex, opening on its literal letters when it opens on look-behinds followed
    by letters or digits: "(?<!\w)sẽ" -> "sẽ(?<!\wsẽ)" (each look-behind takes the letters
    in at its end, so it still tests the text before the match).

    A regex whose every alternative opens on a literal lets the engine skip straight to
    the positions holding one of those characters (a single literal word is searched for
    as a string); one that opens on a look-behind is tried at every position of the text
    (several times slower on long windows)."""
    i, behinds = 0, []
    while (m := _LOOKBEHIND_RE.match(rx, i)) is not None:
        behinds.append(m.group())
        i = m.end()
    j = i
    while j < len(rx) and rx[j].isalnum():
        j += 1
    if j < len(rx) and rx[j] in "*+?{":
        j -= 1  # a quantified letter is not a fixed literal
    if not behinds or j <= i:
        return rx
    lit = rx[i:j]
    moved = []
    for lb in behinds:
        head, body = lb[:4], lb[4:-1]
        moved.append(f"{head}(?:{body}){lit})" if "|" in body else f"{head}{body}{lit})")
    return lit + "".join(moved) + rx[j:]


def words_re(phrases: list[str]) -> str:
    r"""Plain phrases as whole words (longest first); "re:" phrases as written, after them.
    One flat alternation, each alternative opening on a literal (see literal_first): the
    same matches as `(?<!\w)(?:plain|...)(?!\w)|(?:raw)|...`, tried in the same order
    (alternation distributes over the boundary checks and is associative)."""
    plain = [phrase_re(p) for p in phrases if not p.startswith("re:")]
    raw = [p[3:] for p in phrases if p.startswith("re:")]
    alts = [literal_first(rf"(?<!\w){p}(?!\w)") for p in sorted(plain, key=len, reverse=True)]
    alts += [literal_first(r) for r in raw]
    return _by_first_char(alts)


def _by_first_char(alts: list[str]) -> str:
    """The alternation of `alts`, grouped by first character when every alternative opens on
    a plain letter or digit (not quantified) and has no "|" of its own: "chỉ...|cần...|sẽ..."
    -> "c(?:hỉ...|ần...)|s(?:ẽ...)". Alternatives that open on different characters never
    both match at one position, and each group keeps its order, so the matches are the same;
    the engine then tests one character per group, not every alternative, at each position."""
    if len(alts) < 2 or any(not a[:1].isalnum() or a[1:2] in ("*", "+", "?", "{") or "|" in a for a in alts):
        return "|".join(alts)
    groups: dict[str, list[str]] = {}
    for a in alts:
        groups.setdefault(a[0], []).append(a[1:])
    return "|".join(c + (f"(?:{'|'.join(rest)})" if len(rest) > 1 else rest[0] if rest[0] else "")
                    for c, rest in groups.items())


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern:
    """One compiled object per distinct pattern: rules that share a cue list share the regex
    (and the engine's per-clause cache of its results)."""
    return re.compile(pattern)


def any_re(phrases: list[str] | None) -> re.Pattern | None:
    if not phrases:
        return None
    return _compiled(words_re(phrases))


def anchors(phrases: list[str] | None) -> tuple[str, ...] | None:
    """A string each phrase's match must contain (the phrase itself; for a "re:" phrase the letters
    it opens on after its look-behinds): the article holds none of them -> the cue cannot match, a
    str.find instead of a regex scan over the whole text. None when a phrase has no such word."""
    if not phrases:
        return None
    out = []
    for p in phrases:
        if p.startswith("re:"):
            rx = p[3:]
            i = 0
            while (m := _LOOKBEHIND_RE.match(rx, i)) is not None:
                i = m.end()
            m = re.match(r"[^\W\d_]+", rx[i:])
            if m is None or (i + m.end() < len(rx) and rx[i + m.end()] in "*+?{|"):
                return None
            out.append(m.group())
        else:
            out.append(" ".join(fold(p).split()))  # the whole phrase, single-spaced
    return tuple(dict.fromkeys(out))


def any_anchor(words: tuple[str, ...] | None, text: str) -> bool:
    """False only when no anchor occurs in the text (single-spaced text: a phrase cue matches any
    run of spaces, so text with a double space is always searched)."""
    return words is None or "  " in text or any(w in text for w in words)


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
    not_before: re.Pattern | None = None  # a cue anywhere from the clause start to the figure
    document: re.Pattern | None = None    # a cue anywhere in the article (its topic)
    earlier_clause: re.Pattern | None = None  # a cue in the sentence before the figure's clause ("TNGT ...; cả năm xảy ra 25 vụ")
    take: str = "numerator"             # which part of a ratio is the value
    denominator_of: str | None = None   # the indicator a ratio's denominator gives too
    right_own: bool = False             # right cues only up to the next figure (not the next figure's own head)


@dataclass
class FlagRule:
    indicator: str
    value: object
    pattern: re.Pattern
    requires: tuple[str, ...] = ()  # literal substrings without which the rule cannot match
    confidence: float = 0.8
    needs: tuple[tuple[str, ...], ...] = ()  # what the pattern itself must contain (required_literals)


def may_match(needs: tuple[tuple[str, ...], ...], text: str, start: int, end: int) -> bool:
    """False when a match of the regex with these required_literals cannot fit in text[start:end]."""
    for group in needs:
        for lit in group:
            if text.find(lit, start, end) >= 0:
                break
        else:
            return False
    return True


@dataclass
class Rules:
    version: str
    number_rules: list[NumberRule]
    head_re: re.Pattern                      # all plain heads, longest first, one group each
    head_by_char: dict[str, re.Pattern | None]  # head_re cut down to the heads a first character allows
    head_rules: dict[str, list[int]]         # group name -> rule indexes (incl. prefix heads)
    generic_rules: list[tuple[re.Pattern, int]]  # rules with regex heads
    generic_heads: list[tuple[re.Pattern, tuple[int, ...]]]  # the same, one entry per distinct regex
    filler_re: re.Pattern
    flag_rules: list[FlagRule]
    plan_re: re.Pattern
    plan_para_re: re.Pattern
    stop_re: re.Pattern
    award_bodies: list[re.Pattern]
    award_body_needs: list[tuple[tuple[str, ...], ...]]  # required_literals of each
    award_fields: list[tuple[str, re.Pattern]]
    trainee_groups: re.Pattern
    sentence_plan_re: re.Pattern | None = None  # plan cues that govern a whole sentence
    national_anchors: tuple[str, ...] | None = None
    part_year_anchors: tuple[str, ...] | None = None
    national_re: re.Pattern | None = None      # a figure for the whole country, not a unit's
    part_year_re: re.Pattern | None = None     # a part of a year ("6 tháng đầu năm")
    part_year_indicators: frozenset = frozenset()
    never_parts: frozenset = frozenset()       # indicators whose figures are never a breakdown's parts
    # the plan cues without those an assignment is announced with ("dự kiến chỉ tiêu ... là
    # 3.550": a quota is a plan by nature), for the indicators assigned ahead (quotas)
    assigned_plan_re: re.Pattern | None = None
    assigned_sentence_plan_re: re.Pattern | None = None
    _cands: dict = field(default_factory=dict, repr=False)

    def candidates(self, head_group: str | None, generic: tuple[int, ...], kind: str = "") -> list[NumberRule]:
        """The rules to try, in order, for a figure of `kind` whose head matched `head_group`
        (None: no head) and whose right context matched the regex heads `generic` (memoised;
        rules that do not read figures of this kind are left out; kind "": all kinds)."""
        key = (head_group, generic, kind)
        out = self._cands.get(key)
        if out is None:
            ids = set(self.head_rules[head_group]) if head_group is not None else set()
            out = self._cands[key] = [self.number_rules[i] for i in sorted(ids | set(generic))
                                      if not kind or kind in self.number_rules[i].kinds]
        return out


# Between a "left_near" cue and its figure only these may stand ("có hơn 1.000").
_NEAR_GAP = r"[\s:,(]*(?:(?:là|được|có|gồm|với|tổng cộng|hơn|trên|gần|khoảng|dưới|tới|lên)[\s:,]+)*$"


def near_re(phrases: list[str] | None) -> re.Pattern | None:
    """A cue that ends right before the figure."""
    if not phrases:
        return None
    return _compiled(f"(?:{words_re(phrases)}){_NEAR_GAP}")


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
        not_before=any_re(d.get("not_before")),
        document=any_re(d.get("document")),
        earlier_clause=any_re(d.get("earlier_clause")),
        take=d.get("take") or "numerator",
        denominator_of=d.get("denominator_of"),
        right_own=bool(d.get("right_own")),
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
    firsts: list[str | None] = []
    for gi, p in enumerate(phrases):
        ids = set(plain[p])
        for q in phrases:
            if q != p and re.match(whole(q), p):
                ids |= plain[q]
        head_rules[f"h{gi}"] = sorted(ids)
        alts.append(f"(?P<h{gi}>{whole(p)})")
        firsts.append(p[0] if p[:1].isalnum() else None)
    # head_re.match at a figure tries every head in turn; only those that open on the
    # character found there can match (a head that does not open on a letter or digit
    # is kept in every cut), so each cut, in the same order, gives the same match.
    head_by_char: dict[str, re.Pattern | None] = {}
    for c in set(firsts) | {""}:
        keep = [a for a, f in zip(alts, firsts) if f is None or f == c]
        head_by_char[c] = re.compile("|".join(keep)) if keep else None
    flags = []
    for d in data.get("flag_rules", []):
        for p in d["patterns"]:
            rx = re.compile(words_re([p]))
            # The pattern runs over the whole text: one word it cannot match without (the longest
            # that has no alternative) is tested first; testing every required word would cost more.
            single = [g[0] for g in required_literals(rx.pattern) if len(g) == 1]
            needs = ((max(single, key=len),),) if single else ()
            flags.append(FlagRule(d["indicator"], d["value"], rx, tuple(d.get("requires") or ()),
                                  float(d.get("confidence", 0.8)), needs))
    assigned_ok = set(data.get("plan_cues_of_assignments") or ())
    fields = [(name, any_re(ps)) for name, ps in (data.get("award_fields") or {}).items()]
    bodies = [re.compile(words_re([p])) for p in data.get("award_bodies", [])]
    return Rules(
        version=str(data.get("version", "rules")),
        number_rules=rules,
        head_re=re.compile("|".join(alts)),
        head_by_char=head_by_char,
        head_rules=head_rules,
        generic_rules=generic,
        generic_heads=_group_generic(generic),
        filler_re=re.compile(r"(?:" + "|".join(phrase_re(f) for f in data.get("fillers", [])) + r")\s+"),
        flag_rules=flags,
        plan_re=any_re(data["plan_cues"]),
        assigned_plan_re=any_re([c for c in data["plan_cues"] if c not in assigned_ok]),
        assigned_sentence_plan_re=any_re([c for c in data.get("sentence_plan_cues") or () if c not in assigned_ok]),
        plan_para_re=any_re(data["plan_paragraph_cues"]),
        national_re=any_re(data.get("national_cues")),
        national_anchors=anchors(data.get("national_cues")),
        part_year_anchors=anchors(data.get("part_year_cues")),
        sentence_plan_re=any_re(data.get("sentence_plan_cues")),
        part_year_re=any_re(data.get("part_year_cues")),
        part_year_indicators=frozenset(data.get("part_year_indicators") or ()),
        never_parts=frozenset(data.get("never_parts") or ()),
        stop_re=re.compile(r"\n[ \t]*(?:" + "|".join(phrase_re(s) for s in data["stop_lines"]) + r")(?:[ \t.]*$|[ \t]*:)", re.M),
        award_bodies=bodies,
        award_body_needs=[required_literals(rx.pattern) for rx in bodies],
        award_fields=fields,
        trainee_groups=any_re(data.get("trainee_groups")),
    )


def _group_generic(generic: list[tuple[re.Pattern, int]]) -> list[tuple[re.Pattern, tuple[int, ...]]]:
    """Regex heads grouped by pattern, so that a head shared by several rules is matched once."""
    by_pattern: dict[str, tuple[re.Pattern, list[int]]] = {}
    for rx, idx in generic:
        by_pattern.setdefault(rx.pattern, (rx, []))[1].append(idx)
    return [(rx, tuple(ids)) for rx, ids in by_pattern.values()]


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    """The rules of patterns.yml, kept compiled in `.qpan/cache/` (rebuilt when patterns.yml or
    this code changes; the regexes themselves are compiled again on load, by `re`)."""
    from qpan.core.compiled_cache import load_or_build

    def build() -> Rules:
        import yaml  # only when patterns.yml changed: ~0.1 s of imports spared on every other start

        with open(PATTERNS_PATH, encoding="utf-8") as f:
            return compile_rules(yaml.safe_load(f))

    inputs = (PATTERNS_PATH, Path(__file__), *(Path(__file__).with_name(f) for f in ("normalize.py", "regex_literals.py")))
    return load_or_build("rules", inputs, build)
