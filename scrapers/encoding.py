"""The text of a fetched page: its bytes decoded (UTF-8 first, then the declared charset, then the
most Vietnamese reading a detector offers), NFC-normalised."""
from __future__ import annotations

import codecs
import re
import unicodedata

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_XML_ENC = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.-]+)["']""", re.I)
# letters only Vietnamese text has (none of them is in Latin-1/cp1252): a cp1252 misreading of
# cp1258 bytes yields "Ò", "ì", "Þ" instead, so the count tells the readings apart
_VI_LETTERS = re.compile(r"[ăđơưảãạằắẳẵặầấẩẫậẻẽẹềếểễệỉĩịỏọồốổỗộờớởỡợủũụừứửữựỳỷỹỵ]", re.I)


def _norm_enc(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    out = []
    if content_type:
        m = re.search(r"charset\s*=\s*([^\s;]+)", content_type, re.I)
        if m:
            out.append(_norm_enc(m.group(1)))
    head = body[:4096]
    for rx in (_XML_ENC, _META_CHARSET):
        m = rx.search(head)
        if m:
            out.append(_norm_enc(m.group(1).decode("ascii", "ignore")))
    return [e for e in out if e]


def decode_body(body: bytes, content_type: str | None = None) -> str:
    """Text of a response, NFC. Valid UTF-8 wins (a page declared cp1258 that is UTF-8 is
    UTF-8); else the declared charset (header, meta, XML) if it decodes strictly; else a
    detector (charset-normalizer, cp1258 included) choosing the most Vietnamese reading."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        return unicodedata.normalize("NFC", body.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    for enc in declared_charsets(body, content_type):
        if enc == "utf-8":
            continue
        try:
            return unicodedata.normalize("NFC", body.decode(enc))
        except (UnicodeDecodeError, LookupError):
            continue
    return unicodedata.normalize("NFC", _detect(body))


def _detect(body: bytes) -> str:
    candidates: list[str] = []
    try:
        from charset_normalizer import from_bytes

        for match in from_bytes(body, cp_isolation=["cp1258", "cp1252", "latin_1", "utf_16", "cp1251"]):
            candidates.append(str(match))
    except Exception:  # noqa: BLE001 - the detector is best effort
        pass
    try:
        candidates.append(body.decode("cp1258"))
    except UnicodeDecodeError:
        pass
    if not candidates:
        return body.decode("cp1258", errors="replace")
    return max(candidates, key=lambda t: len(_VI_LETTERS.findall(unicodedata.normalize("NFC", t))))
