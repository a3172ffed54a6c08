"""Superset's configuration for `qpan bi` (read through SUPERSET_CONFIG_PATH).

Nothing secret lives here: `qpan bi` passes the generated SECRET_KEY in the environment
(kept in .qpan/secrets.json as superset_secret_key) and the metadata database's place
(QPAN_SUPERSET_HOME, default .qpan/superset). The warehouse connection is not configured
here either: it is the `qpan_analyst` database of the imported dashboard bundle.
"""
import os

_home = os.environ["QPAN_SUPERSET_HOME"]

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
# metadata (users, charts, dashboards) on SQLite: one user, one process, no extra server
SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(_home, "superset.db")
DATA_DIR = _home

# no phoning home, no example data, no thumbnails/alerts workers (there is no Celery here)
SCARF_ANALYTICS = False
FEATURE_FLAGS = {"THUMBNAILS": False, "ALERT_REPORTS": False}
# listens on 127.0.0.1 only: the default security headers stay on; CSRF stays on (API clients
# fetch /api/v1/security/csrf_token/ first)
WTF_CSRF_ENABLED = True
# SQL Lab runs synchronously in the web process, read-only (the database has allow_dml: false
# and connects as qpan_analyst, which can only select from marts and the audit trail)
SQLLAB_TIMEOUT = 60
SUPERSET_WEBSERVER_TIMEOUT = 60
ROW_LIMIT = 50000
