"""The gazetteer seeds (admin units and their lineage) built from the pinned vietnam-provinces data: `qpan gazetteer`."""
