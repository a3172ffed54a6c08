"""The bounds a transform benchmark must hold (issue 31): `make bench-quick` exits 1 past them."""
from __future__ import annotations

import statistics

# The guard of `make bench-quick` (issue 31): a full build that goes quadratic fails the bench,
# not a user's rebuild. No model may take more than MODEL_S_PER_1K_MENTIONS seconds of a full build
# per 1,000 mentions: the nested loop of issue 31 took 2.7-3.7 s per 1,000 at the 10k tier (more
# at every larger tier), the fixed model 0.055 s at load ~2 and ~0.35 s with this 2-core machine at
# load ~25, so the bound fails the regression and not a busy machine. At the quick
# tier (10k articles, where dbt's fixed cost is most of an incremental build) the full build may
# take at most FULL_OVER_INCREMENTAL times the incremental one.
MODEL_S_PER_1K_MENTIONS = 1.0
FULL_OVER_INCREMENTAL = 3.0
RATIO_TIER = 10_000


def check_transform_bounds(entries: dict) -> list[str]:
    """What breaks the bounds above in the measured transform tiers (empty when all hold)."""
    failures = []
    for key, runs in entries.items():
        if not key.startswith("transform/"):
            continue
        n = int(key.split("/")[1])
        for r in runs:
            per_1k = r["mentions"] / 1000
            for model, secs in (r.get("full_models") or {}).items():
                if secs / per_1k > MODEL_S_PER_1K_MENTIONS:
                    failures.append(f"{key}: {model} took {secs:.1f} s of the full build, {secs / per_1k:.3f} s per "
                                    f"1,000 mentions (bound {MODEL_S_PER_1K_MENTIONS})")
        ratio = statistics.median(r["full_s"] / r["incremental_s"] for r in runs)
        if n == RATIO_TIER and ratio > FULL_OVER_INCREMENTAL:
            failures.append(f"{key}: full build {ratio:.1f}x the incremental one (median; bound {FULL_OVER_INCREMENTAL}x)")
    return failures
