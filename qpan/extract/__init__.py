"""Extraction engine: Vietnamese article text -> QP-AN indicator facts.

    from qpan.extract import extract_article
    facts = extract_article(title, body, published_at=None, source_unit_id=None)
"""
from .engine import EXTRACTOR_VERSION, Fact, extract_article

__all__ = ["EXTRACTOR_VERSION", "Fact", "extract_article"]
