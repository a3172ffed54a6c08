"""Gate: Great Expectations decides what reaches the marts (write-audit-publish), then publish."""
