"""Ingest: the steps that fill raw: crawl a source (ingest DAG), extract facts from articles (transform DAG)."""
