"""Ingest: the steps that fill raw: crawl a source (the ingest DAG), extract facts from the articles (the transform DAG's first step)."""
