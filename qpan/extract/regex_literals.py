"""`required_literals(pattern)`: strings every match of a regex contains, read off the regex's
parse tree. The one place qpan reads CPython's private `re._parser` / `re._constants` (there is
no public parse tree); tests/extract/test_regex_literals.py pins the Python version it was
checked on and the results it must give, so an upgrade that changes the tree fails there first."""
from __future__ import annotations

import re
import re._constants as _sre_c
import re._parser as _sre_parse

_REPEATS = (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT, getattr(_sre_c, "POSSESSIVE_REPEAT", _sre_c.MAX_REPEAT))


def _seq_required(items) -> list[tuple[str, ...]]:
    groups: list[tuple[str, ...]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            groups.append(("".join(run),))
            run.clear()

    for op, av in items:
        if op is _sre_c.LITERAL:
            run.append(chr(av))
            continue
        flush()
        if op is _sre_c.SUBPATTERN and not av[1] & re.IGNORECASE:
            groups.extend(_seq_required(av[-1]))
        elif op is _sre_c.BRANCH:
            alts = []
            for alt in av[1]:
                best = max((g[0] for g in _seq_required(alt) if len(g) == 1), key=len, default=None)
                if best is None:
                    break
                alts.append(best)
            else:
                groups.append(tuple(dict.fromkeys(alts)))
        elif op in _REPEATS and av[0] >= 1:
            groups.extend(_seq_required(av[2]))
    flush()
    return groups


def required_literals(pattern: str) -> tuple[tuple[str, ...], ...]:
    """Strings every match of `pattern` contains, read off its parse tree: groups of
    alternatives, a match holding at least one string of each group ("(?:a|b)c" -> (("a",
    "b"), ("c",))). Only what the match itself consumes counts (look-arounds never), so a
    search in text[i:j] can only succeed if every group has a string inside text[i:j]: a
    cheap, exact test to skip a search. Empty when nothing useful is known (one-character
    strings are left out)."""
    try:
        tree = _sre_parse.parse(pattern)
    except Exception:  # noqa: BLE001 - an unparsable pattern just gets no pre-test
        return ()
    if tree.state.flags & re.IGNORECASE:
        return ()
    return tuple(g for g in _seq_required(tree.data) if min(map(len, g)) >= 2)
