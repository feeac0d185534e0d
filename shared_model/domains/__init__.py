"""The domain registry: one subpackage per domain, each exposing ``DOMAIN``.

A new domain is one subpackage plus one line here; nothing else branches on domain
names. Subpackages are imported only when asked for (optional deps stay optional).
"""

from __future__ import annotations

import importlib

from shared_model.domains.base import Corpus, Document, Domain
from shared_model.errors import InvalidRequest

_REGISTRY: dict[str, str] = {
    "tang": "shared_model.domains.tang",
    "shakespeare": "shared_model.domains.shakespeare",
    "text": "shared_model.domains.text",
    "bach": "shared_model.domains.bach",
}


def domain_names() -> list[str]:
    return list(_REGISTRY)


def get_domain(name: str) -> Domain:
    """The domain object for ``name``; InvalidRequest naming the known ones otherwise."""
    module = _REGISTRY.get(name)
    if module is None:
        raise InvalidRequest(f"unknown domain {name!r}; choose one of: {', '.join(_REGISTRY)}")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise InvalidRequest(f"domain {name!r} is not available in this version") from None
        raise
    return mod.DOMAIN  # type: ignore[no-any-return]


__all__ = ["Corpus", "Document", "Domain", "domain_names", "get_domain"]
