"""Import a qpan dashboard bundle (ZIP in Superset's export format) into Superset, overwriting.

Run by `qpan bi start` with .venv-bi's Python: `python bi/import_bundle.py BUNDLE.zip`.
`superset import-dashboards` overwrites the dashboard but keeps an existing database, dataset
or chart as it was, so a changed chart (or a new warehouse password or host) would never
reach Superset. This imports each kind in turn with overwrite, as the admin user.
"""
import sys
import zipfile

import yaml
from superset.app import create_app

KINDS = [  # (importer module, class, the model name metadata.yaml must carry for it)
    ("superset.commands.database.importers.v1", "ImportDatabasesCommand", "Database"),
    ("superset.commands.dataset.importers.v1", "ImportDatasetsCommand", "SqlaTable"),
    ("superset.commands.chart.importers.v1", "ImportChartsCommand", "Slice"),
    ("superset.commands.dashboard.importers.v1", "ImportDashboardsCommand", "Dashboard"),
]


def main(path: str) -> None:
    import importlib

    from superset import security_manager
    from superset.commands.importers.v1.utils import get_contents_from_bundle
    from superset.utils.core import override_user

    with zipfile.ZipFile(path) as bundle:
        contents = get_contents_from_bundle(bundle)
    metadata = yaml.safe_load(contents["metadata.yaml"])
    admin = security_manager.find_user(username="admin")
    if admin is None:
        raise SystemExit("import_bundle: no admin user (run `qpan bi start`)")
    with override_user(admin):
        for module, name, model in KINDS:
            command = getattr(importlib.import_module(module), name)
            kind_contents = dict(contents, **{"metadata.yaml": yaml.safe_dump(dict(metadata, type=model))})
            command(kind_contents, overwrite=True).run()
        viewer_role()
    print(f"imported {sum(1 for f in contents if f != 'metadata.yaml')} files from {path}")


def viewer_role() -> None:
    """`qpan_viewer`, the role of dashboard users: Gamma's permissions (dashboards and charts,
    no SQL Lab, no editing of databases) plus read access to every imported database (the
    analyst's). Rebuilt at every import, so a new dataset or a Superset upgrade is followed."""
    from superset import db, security_manager
    from superset.models.core import Database

    role = security_manager.find_role("qpan_viewer") or security_manager.add_role("qpan_viewer")
    permissions = list(security_manager.find_role("Gamma").permissions)
    for database in db.session.query(Database).all():
        permissions.append(security_manager.add_permission_view_menu("database_access", database.perm))
    role.permissions = permissions
    db.session.commit()


if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        main(sys.argv[1])
