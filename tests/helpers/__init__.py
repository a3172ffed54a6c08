"""Helpers shared by the test modules (importable as `helpers`: pytest's `pythonpath` in
pyproject.toml puts tests/ on the path, so no test edits sys.path)."""
