"""Shared CLI plumbing: the ``--json`` option, JSON-lines output, settings from the context.

No numpy, onnxruntime or SQL here; commands stay thin.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    """Add ``--json``: one JSON object per line on stdout instead of prose."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print one JSON object per line (for scripts).")(func)


def emit_json(obj: Any) -> None:
    """Write one JSON object as one line on stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def settings():  # type: ignore[no-untyped-def]
    """The Settings for this invocation, read from the environment once per command."""
    from shared_model.settings import Settings

    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    if "settings" not in root.obj:
        root.obj["settings"] = Settings.from_env()
    return root.obj["settings"]
