"""Tiny text helpers: NFC, Vietnamese tone-placement unification, whitespace, matching keys.

Tone placement: Vietnamese text arrives with the "old" placement (hoà, khoẻ, thuỷ: the mark on
the second vowel of a final oa/oe/uy) and the "new" one (hòa, khỏe, thủy). We unify to the new
placement, which is the one the gazetteer uses ("Thanh Hóa"). Only the three open finals
oa/oe/uy are touched; "quý", "hoàng", "khuya", "thuyền" are left as they are.
"""
from __future__ import annotations

import re
import unicodedata

_DASHES = re.compile(r"[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")


# C0 and C1 control characters and DEL that are not whitespace: ESC (ANSI/OSC sequences), BEL,
# backspace, CSI (\x9b)... A page's text never needs them and a terminal obeys them. The
# whitespace ones (tab, newline, \x0b, \x0c, \x1c-\x1f, NEL) stay: they separate words.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
# what a terminal must not receive raw: every C0/C1 control but newline and tab
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """The text without control characters that are not whitespace."""
    return _CONTROLS.sub("", text)


def terminal_safe(text: str) -> str:
    """The text with every C0/C1 control character but newline and tab shown as an escape
    (ESC as `\\x1b`), so printing stored text cannot drive the reader's terminal."""
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


_TONES_ORDER = ["\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]


def _toned(base: str, tone: str) -> str:
    return unicodedata.normalize("NFC", base + tone)


# old placement: the mark on the second vowel of a final oa / oe / uy ("hoà", "khoẻ", "thuỷ");
# not after q (quý) and not inside a longer vowel cluster; the syllable ends there.
_OLD_MAP: dict[str, str] = {}
for _first, _second in (("o", "a"), ("o", "e"), ("u", "y")):
    for _f, _s in ((_first, _second), (_first.upper(), _second.upper()), (_first.upper(), _second)):
        for _t in _TONES_ORDER:
            _OLD_MAP[_f + _toned(_s, _t)] = _toned(_f, _t) + _s
_OLD = re.compile(r"(?<![qQaăâeêioôơuưyAĂÂEÊIOÔƠUƯY])([oOuU][" + "".join(sorted({k[1] for k in _OLD_MAP})) + r"])(?!\w)")


def unify_tones(text: str) -> str:
    """NFC with the new tone placement on final oa/oe/uy (hoà -> hòa, khoẻ -> khỏe, thuỷ -> thủy)."""
    text = unicodedata.normalize("NFC", text)
    if not _OLD.search(text):
        return text
    return _OLD.sub(lambda m: _OLD_MAP.get(m.group(1), m.group(1)), text)


def clean(text: str) -> str:
    """One line: NFC + tone placement, control characters out, exotic spaces to ' ', collapsed,
    stripped."""
    t = strip_controls(unify_tones(text or ""))
    if "\u200b" in t or "\ufeff" in t:
        t = t.replace("\u200b", "").replace("\ufeff", "")
    return " ".join(t.split())  # every Unicode space (incl. NBSP) -> one ' ', stripped


def match_key(text: str) -> str:
    """Key for keyword matching: cleaned, case-folded, dashes unified, spaces around '-' removed.
    Diacritics are kept: "báo" (newspaper) is not "bão" (storm)."""
    t = _DASHES.sub("-", clean(text)).casefold()
    return re.sub(r"\s*-\s*", "-", t)


def keyword_pattern(keywords) -> re.Pattern:
    alts = sorted({re.escape(match_key(k)) for k in keywords if k and k.strip()}, key=len, reverse=True)
    if not alts:
        return re.compile(r"(?!x)x")
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)")
