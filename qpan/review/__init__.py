"""The review loop (issue 18): people confirm, correct, reject or add facts; dbt applies their
decisions (review.decisions, written only by qpan_reviewer) at the next transform run."""
