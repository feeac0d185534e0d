"""The domain registry: one subpackage per domain, each exposing ``DOMAIN``.

A new domain is one subpackage plus one line here; nothing else branches on domain
names. Subpackages are imported only when asked for (optional deps stay optional).
"""

from __future__ import annotations

import importlib

from shared_model.domains.base import Corpus, Document, Domain
from shared_model.errors import InvalidRequest
from shared_model.tokenizer import CharTokenizer

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


def tokenizer_for(domain: str, vocab: list[str], special_tokens: dict[str, str]) -> CharTokenizer:
    """The tokenizer of a trained model from its vocabulary.

    A vocabulary of single characters (besides the specials) is a ``CharTokenizer``
    without importing the domain; one with longer units (bach's ``S:72``) needs its
    domain's ``tokenizer_from_vocab``, else text would be split into characters and
    every unit scored as ``<unk>``.
    """
    specials = set(special_tokens.values())
    if all(len(t) == 1 for t in vocab if t not in specials):
        return CharTokenizer(vocab, special_tokens)
    try:
        build = getattr(get_domain(domain), "tokenizer_from_vocab", None)
    except InvalidRequest:
        build = None
    return build(vocab, special_tokens) if build is not None else CharTokenizer(vocab, special_tokens)


__all__ = ["Corpus", "Document", "Domain", "domain_names", "get_domain", "tokenizer_for"]
