"""Landing: the raw store the crawler writes through (PostgresStore) and the bulk COPY loads."""
