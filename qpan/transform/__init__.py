"""Transform: dbt builds the marts (seeds, models, tests) into marts_candidate."""
