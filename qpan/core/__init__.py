"""Core: the settings, the configuration, the warehouse's database and its embedded Postgres; imports nothing else of qpan."""
