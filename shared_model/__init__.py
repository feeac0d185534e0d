"""lstmgen's public serving API: everything the bot, the magic and the CLI may import.

Importing this package is cheap: the names below are loaded on first use, so
``import shared_model`` pulls in neither onnxruntime nor SQLAlchemy until needed, and
never torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Studio": "shared_model.api",
    "GenerateRequest": "shared_model.api",
    "Generation": "shared_model.api",
    "SamplingConfig": "shared_model.serving.sampling",
    "SessionConfig": "shared_model.serving.session",
    "EngineConfig": "shared_model.serving.engine",
    "ModelInfo": "shared_model.serving.registry",
    "Registry": "shared_model.serving.registry",
    "Settings": "shared_model.settings",
    "Store": "shared_model.storage",
    "GenerationRecord": "shared_model.storage",
    "GenerationView": "shared_model.storage",
    "RatingResult": "shared_model.storage",
    "ExportConfig": "shared_model.storage",
    "PoemRequest": "shared_model.domains.tang.request",
    "ChoraleRequest": "shared_model.domains.bach.request",
    "SceneRequest": "shared_model.domains.shakespeare.scene",
    "LstmgenError": "shared_model.errors",
    "InvalidRequest": "shared_model.errors",
    "ModelNotFound": "shared_model.errors",
    "BrokenModelFile": "shared_model.errors",
    "NotFound": "shared_model.errors",
    "StorageError": "shared_model.errors",
    "Busy": "shared_model.errors",
    "GenerationTimeout": "shared_model.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shared_model' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
