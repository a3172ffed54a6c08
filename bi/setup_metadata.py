"""Set up Superset's metadata database in one process (three `superset` commands would each pay
Superset's import time): `superset db upgrade`, `superset init`, then the admin user
(`superset fab create-admin`, or its password reset to the one qpan keeps).

Run by `qpan bi start` with .venv-bi's Python; the admin password comes in the environment
(QPAN_SUPERSET_ADMIN_PASSWORD), never on a command line.
"""
import os
import time
from pathlib import Path

import superset
from flask_migrate import upgrade
from superset.app import create_app


def main() -> None:
    from superset import appbuilder, db, security_manager

    started = time.monotonic()
    upgrade(directory=str(Path(superset.__file__).parent / "migrations"))
    migrated = time.monotonic()
    appbuilder.add_permissions(update_perms=True)
    security_manager.sync_role_definitions()
    db.session.commit()
    password = os.environ["QPAN_SUPERSET_ADMIN_PASSWORD"]
    user = security_manager.find_user(username="admin")
    if user is None:
        user = security_manager.add_user("admin", "qpan", "admin", "admin@localhost",
                                         security_manager.find_role("Admin"), password=password)
        if not user:
            raise SystemExit("setup_metadata: could not create the admin user")
    else:
        security_manager.reset_password(user.id, password)
    db.session.commit()
    print(f"superset metadata ready: migrations {migrated - started:.0f} s, "
          f"roles and admin {time.monotonic() - migrated:.0f} s")


if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        main()
