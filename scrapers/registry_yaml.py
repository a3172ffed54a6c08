"""The registry's YAML, read with the line of every mapping, list and string (so that a refusal
names file:line), and `${VAR}` / `${VAR:-default}` substituted from the environment."""
from __future__ import annotations

import os
import re
from pathlib import Path

import yaml


class RegistryError(ValueError):
    """A registry that cannot be used: message is 'file:line: reason'."""

    def __init__(self, path: str | Path, line: int | None, reason: str):
        self.path, self.line, self.reason = str(path), line, reason
        super().__init__(f"{path}:{line if line is not None else '?'}: {reason}")


class LDict(dict):
    line: int = 0
    key_lines: dict


class LList(list):
    line: int = 0
    item_lines: list


class LStr(str):
    line: int = 0


def _loader(path: Path):
    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node):
        out = LDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for knode, vnode in node.value:
            key = loader.construct_object(knode, deep=True)
            if key in out:
                raise RegistryError(path, knode.start_mark.line + 1, f"duplicate key {key!r}")
            out[key] = loader.construct_object(vnode, deep=True)
            out.key_lines[key] = vnode.start_mark.line + 1
        return out

    def sequence(loader, node):
        out = LList(loader.construct_object(n, deep=True) for n in node.value)
        out.line = node.start_mark.line + 1
        out.item_lines = [n.start_mark.line + 1 for n in node.value]
        return out

    def string(loader, node):
        s = LStr(loader.construct_scalar(node))
        s.line = node.start_mark.line + 1
        return s

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    Loader.add_constructor("tag:yaml.org,2002:str", string)
    return Loader


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def read_yaml(path: Path):
    """The document of `path` with its lines, environment variables substituted."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(path, None, f"cannot read: {exc}") from exc
    try:
        doc = yaml.load(text, Loader=_loader(path))  # noqa: S506 - SafeLoader subclass
    except RegistryError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RegistryError(path, mark.line + 1 if mark else None, f"invalid YAML: {exc}") from exc
    return doc


def _env_value(name: str) -> str | None:
    """A `${NAME}` of the registry. The sample portal's port is checked and, unset, derived:
    QPAN_PG_PORT + 10 everywhere (`make run`, `python -m scrapers.portal_server`, this registry),
    because the port is part of every sample article's URL, its key."""
    if name == "QPAN_SAMPLE_PORT":
        from qpan.core.config import sample_port

        return str(sample_port())
    return os.environ.get(name)


def substitute_env(path, obj):
    """`obj` with every `${VAR}` / `${VAR:-default}` of its strings replaced, lines kept."""
    if isinstance(obj, LStr) or isinstance(obj, str):
        line = getattr(obj, "line", None)

        def rep(m):
            val = _env_value(m.group(1))
            if val is None or val == "":
                if m.group(2) is not None:
                    return m.group(2)
                raise RegistryError(path, line, f"environment variable {m.group(1)} is not set")
            return val

        new = LStr(_ENV.sub(rep, obj))
        new.line = line or 0
        return new
    if isinstance(obj, LDict):
        out = LDict((k, substitute_env(path, v)) for k, v in obj.items())
        out.line, out.key_lines = obj.line, obj.key_lines
        return out
    if isinstance(obj, LList):
        out = LList(substitute_env(path, v) for v in obj)
        out.line, out.item_lines = obj.line, obj.item_lines
        return out
    return obj
