"""Core: settings, configuration, the database and its embedded Postgres; imports nothing else of qpan."""
