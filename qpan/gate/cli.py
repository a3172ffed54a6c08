"""`qpan check`: the quality gate's checkpoints on demand; a summary on the console, GX's own
logging and progress bars in `.qpan/logs/qpan-check.log`."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

from qpan.core import config


def check_log_path() -> Path:
    return config.state_dir() / "logs" / "qpan-check.log"


@contextmanager
def _internals_to_log(path: Path):
    """Every log record to `path`; on the console only qpan's own warnings and errors. (GX's
    progress bars are off in the context qpan.gate.gx builds.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    previous = [(h, h.level) for h in root.handlers]
    for h, _ in previous:
        h.setLevel(logging.WARNING)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)
        for h, level in previous:
            h.setLevel(level)


def cmd_check(args) -> int:
    from qpan.gate.validate import CHECKPOINTS, GateFailed, data_docs_index, run_checkpoint, run_landing_gate

    names = [args.checkpoint] if args.checkpoint != "all" else list(CHECKPOINTS)
    failed = 0
    log_path = check_log_path()
    with _internals_to_log(log_path):
        for name in names:
            try:
                out = run_landing_gate() if name == "landing" else run_checkpoint(name)
                print(f"{name}: passed ({out.get('expectations', '?')} expectations)", flush=True)
            except GateFailed as exc:
                failed += 1
                print(f"{name}: FAILED\n{exc}", flush=True)
            except Exception as exc:  # e.g. candidate marts not built yet
                failed += 1
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                print(f"{name}: could not run: {first}", flush=True)
    print(f"Data Docs: {data_docs_index()}")
    print(f"log: {log_path}")
    return 1 if failed else 0


def register(subparsers) -> None:
    from qpan.gate.validate import CHECKPOINTS

    parser = subparsers.add_parser("check", help="run the quality gate's checkpoints (exit 1 on failure)")
    parser.add_argument("checkpoint", nargs="?", default="all", choices=["all", *CHECKPOINTS],
                        help="which checkpoint (default: all)")
    parser.set_defaults(func=cmd_check)


