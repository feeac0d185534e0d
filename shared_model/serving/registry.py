"""The model registry: shipped models and user models, by name or by path.

Owns where models are found (the package's ``shared_model/models/*.onnx`` and
``Settings.models_dir``; a name resolves the user dir first; a path to an ``.onnx`` file
works too), ``ModelInfo`` (metadata read WITHOUT a session, through
``artifact.read_metadata``; sha256 cached by path + mtime + size) and the errors for
unknown names and broken files. numpy-free, onnxruntime-free: never imports torch,
training or exporters.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from shared_model.artifact import ArtifactMeta, read_metadata
from shared_model.errors import BrokenModelFile, ModelNotFound
from shared_model.settings import Settings

SHIPPED, USER, PATH = "shipped", "user", "path"

# sha256 by (path, mtime_ns, size): a changed file gets a new key, so entries never go stale
_SHA_CACHE: dict[tuple[str, int, int], str] = {}
_SHA_LOCK = threading.Lock()


def shipped_dir() -> Path:
    """The package's models folder (may not exist in a build without shipped models)."""
    return Path(str(resources.files("shared_model").joinpath("models")))


def file_sha256(path: Path) -> str:
    """Hex sha256 of a model file, cached by path, mtime and size."""
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    with _SHA_LOCK:
        cached = _SHA_CACHE.get(key)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    digest = h.hexdigest()
    with _SHA_LOCK:
        _SHA_CACHE[key] = digest
    return digest


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one model file, read without a session.

    ``broken`` is None for a usable model, else the reason it cannot be served.
    """

    name: str
    path: Path
    source: str  # shipped | user | path
    size: int
    sha256: str
    domain: str | None = None
    vocab_size: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    broken: str | None = None
    meta: ArtifactMeta | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "source": self.source,
                "domain": self.domain, "size": self.size, "vocab_size": self.vocab_size,
                "metrics": self.metrics, "sha256": self.sha256, "broken": self.broken}


def inspect_model(path: Path, source: str, name: str | None = None) -> ModelInfo:
    """ModelInfo of one file; a corrupt or foreign file is returned as broken, not raised."""
    size = path.stat().st_size
    sha = file_sha256(path)
    name = name or path.stem
    try:
        meta = read_metadata(path)
    except BrokenModelFile as exc:
        return ModelInfo(name, path, source, size, sha, broken=str(exc))
    return ModelInfo(name, path, source, size, sha, domain=meta.domain,
                     vocab_size=len(meta.vocab), metrics=dict(meta.metrics), meta=meta)


class Registry:
    """Shipped + user models. Cheap to build; every call looks at the folders again."""

    def __init__(self, settings: Settings | None = None, shipped: Path | None = None):
        self.settings = settings or Settings.from_env()
        self.shipped = shipped if shipped is not None else shipped_dir()

    def _files(self) -> dict[str, tuple[Path, str]]:
        """name -> (path, source); user files shadow shipped files of the same name."""
        found: dict[str, tuple[Path, str]] = {}
        for folder, source in ((self.shipped, SHIPPED), (self.settings.models_dir, USER)):
            if folder.is_dir():
                for path in sorted(folder.glob("*.onnx")):
                    if path.is_file():
                        found[path.stem] = (path, source)
        return found

    def names(self) -> list[str]:
        return sorted(self._files())

    def list(self) -> list[ModelInfo]:
        """Every model (shadowed shipped ones left out), broken ones with their reason."""
        infos = []
        for name, (path, source) in sorted(self._files().items()):
            try:
                infos.append(inspect_model(path, source, name))
            except OSError as exc:  # vanished or unreadable between listing and reading
                infos.append(ModelInfo(name, path, source, 0, "", broken=f"unreadable ({exc})"))
        return infos

    def find(self, name_or_path: str | os.PathLike[str]) -> ModelInfo:
        """ModelInfo of a name (user dir first, then shipped) or of a path to an .onnx file.

        Raises:
            ModelNotFound: no such name or file; the message lists the available names.
        """
        text = os.fspath(name_or_path)
        files = self._files()
        if text in files:
            path, source = files[text]
            return inspect_model(path, source, text)
        if text.endswith(".onnx") or os.sep in text or "/" in text:
            path = Path(text).expanduser()
            if path.is_file():
                return inspect_model(path, PATH)
            raise ModelNotFound(f"no model file at {path}")
        available = ", ".join(sorted(files)) or "none (train and export one, or set LSTMGEN_MODELS)"
        raise ModelNotFound(f"unknown model {text!r}; available: {available}")

    def resolve(self, name_or_path: str | os.PathLike[str]) -> ModelInfo:
        """Like ``find``, but a broken model raises BrokenModelFile with its reason."""
        info = self.find(name_or_path)
        if info.broken:
            raise BrokenModelFile(f"model {info.name!r} cannot be used: {info.broken}")
        return info

    def open(self, name_or_path: str | os.PathLike[str], config: Any = None) -> Any:
        """A ``ModelSession`` for a model (imports onnxruntime only now)."""
        from shared_model.serving.session import ModelSession

        info = self.resolve(name_or_path)
        return ModelSession(info.path, config, meta=info.meta)


__all__ = ["ModelInfo", "Registry", "file_sha256", "inspect_model", "shipped_dir"]
