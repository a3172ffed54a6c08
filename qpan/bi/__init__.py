"""Apache Superset on the analyst role: `make bi`, `qpan bi start|stop|status` (see docs/bi.md)."""
