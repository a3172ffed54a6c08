"""The dashboard as code: `bi/superset/` (Superset's export format) imported at every start.

The committed database file has a masked password, as Superset's own exports do. At import
the bundle is zipped with the real `qpan_analyst` URL of the current warehouse (the embedded
one, or QPAN_DATABASE_URL's host and database) into a private temporary file under
.qpan/superset, imported (overwriting) by bi/import_bundle.py, and deleted. The connection is
the read-only analyst role, never the admin URL.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from qpan.core import config
from qpan.bi import server

BUNDLE_DIR = config.REPO_ROOT / "bi" / "superset"
IMPORTER = config.REPO_ROOT / "bi" / "import_bundle.py"
DATABASE_FILE = "databases/qpan_analyst.yaml"
ANALYST_ROLE = "qpan_analyst"
ROOT = "qpan_bi"  # the top folder inside the zip, as in Superset's exports (stripped on import)


def analyst_uri() -> str:
    """The SQLAlchemy URL Superset connects with: qpan_analyst on the warehouse's host/database."""
    libpq = config.database_url(ANALYST_ROLE)
    if urlsplit(libpq).username != ANALYST_ROLE:  # never hand Superset another role's URL
        raise server.BIError("the BI connection must be the qpan_analyst role")
    return "postgresql+psycopg2://" + libpq.split("://", 1)[1]


def bundle_files() -> list[Path]:
    return sorted(p for p in BUNDLE_DIR.rglob("*.yaml") if p.is_file())


def _render(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.relative_to(BUNDLE_DIR).as_posix() != DATABASE_FILE:
        return text
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if line.startswith("sqlalchemy_uri:")]
    if len(hits) != 1:
        raise server.BIError(f"{path}: expected one sqlalchemy_uri line")
    lines[hits[0]] = "sqlalchemy_uri: " + json.dumps(analyst_uri())  # a JSON string is a YAML string
    return "\n".join(lines) + "\n"


def write_zip(dest: Path) -> Path:
    """The import ZIP (it holds the analyst password: created 0600, deleted after import)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.touch(mode=0o600)
    dest.chmod(0o600)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in bundle_files():
            zf.writestr(f"{ROOT}/{path.relative_to(BUNDLE_DIR).as_posix()}", _render(path))
    return dest


def import_dashboard() -> None:
    """Import (overwrite) the database, datasets, charts and dashboard of bi/superset/."""
    dest = server.home() / "import.zip"
    try:
        write_zip(dest)
        server.run_bi_python(str(IMPORTER), str(dest), what="import the dashboard bi/superset/ into Superset")
    finally:
        dest.unlink(missing_ok=True)
