"""``lstmgen info``: versions, execution providers, models dir, shipped models, database URL.

Thin and safe to run anywhere: versions come from package metadata (torch is never
imported), the database URL is shown with its password hidden.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata

import click

from shared_model.cli.output import emit_json, json_option, settings

_PACKAGES = ("lstmgen", "numpy", "onnxruntime", "onnxruntime-gpu", "torch")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def hide_password(url: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://user:***@host``."""
    return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)


@click.command()
@json_option
def info(as_json: bool) -> None:
    """Show versions, execution providers, where models and data live, and the database."""
    from shared_model.serving.registry import Registry
    from shared_model.serving.session import available_providers, select_providers

    s = settings()
    available = available_providers()
    registry = Registry(s)
    listed = registry.list()
    shipped = [i.name for i in listed if i.source == "shipped"]
    used = select_providers(available, "auto")[0]
    usable = [i for i in listed if not i.broken]
    if usable:  # the provider onnxruntime really uses, from a real session
        used = registry.open(usable[0].path).provider
    out = {
        "versions": {"python": platform.python_version(),
                     **{name: _version(name) for name in _PACKAGES}},
        "providers": {"available": available, "used": used},
        "home": str(s.home), "models_dir": str(s.models_dir),
        "shipped_models": shipped, "db_url": hide_password(s.db_url),
    }
    if as_json:
        emit_json(out)
        return
    for name, version in out["versions"].items():
        click.echo(f"{name:<16} {version or '-'}")
    click.echo(f"{'providers':<16} {', '.join(available)} (using {used})")
    click.echo(f"{'home':<16} {out['home']}")
    click.echo(f"{'models dir':<16} {out['models_dir']}")
    click.echo(f"{'shipped models':<16} {', '.join(shipped) or '-'}")
    click.echo(f"{'database':<16} {out['db_url']}")
