"""Objects that are slow to build from their source files (the gazetteer's index, the compiled
extraction rules), kept as a pickle in `.qpan/cache/` keyed by a hash of those files.

`load_or_build(name, inputs, build)` returns the stored object when every input (the data files
and the code that builds from them) is byte-for-byte what it was; otherwise it builds, stores
and returns a new one. A missing, stale or unreadable cache only costs one build. The cache is
our own file under the git-ignored state folder, written atomically; nothing else is unpickled.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from qpan.core import config

T = TypeVar("T")
log = logging.getLogger(__name__)


def cache_dir() -> Path:
    return config.state_dir() / "cache"


def _digest(inputs: Iterable[Path]) -> str:
    h = hashlib.sha256(sys.version.encode())
    for path in inputs:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def load_or_build(name: str, inputs: Iterable[Path], build: Callable[[], T]) -> T:
    path = cache_dir() / f"{name}-{_digest(inputs)}.pickle"
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except FileNotFoundError:
        pass
    except Exception as exc:  # noqa: BLE001 - a torn or foreign file: build again
        log.debug("cache %s unreadable (%s): rebuilding", path, exc)
    value = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}-")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for old in path.parent.glob(f"{name}-*.pickle"):  # the versions of older inputs
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:  # a read-only state folder: the object is still returned
        log.debug("cache %s not written: %s", path, exc)
    return value
