"""The model-artifact contract: one self-contained ``.onnx`` file per model.

One writer (``attach_metadata``, used by exporters) and one reader (``read_metadata``,
used by the registry and the runtime). The reader parses the ONNX protobuf wire format
itself, skipping the graph bytes, so listing models needs neither ``onnx`` nor an
onnxruntime session. Never imports torch, onnx (at module level) or training.

Graph contract: inputs ``tokens`` int64 [B, T], ``h0``/``c0`` float32 [L, B, H];
outputs ``logits`` float32 [B, T, V], ``hn``, ``cn``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared_model.errors import BrokenModelFile

FORMAT_VERSION = "1"
PREFIX = "lstmgen."
INPUT_NAMES = ("tokens", "h0", "c0")
OUTPUT_NAMES = ("logits", "hn", "cn")
_REQUIRED_CONFIG = ("embed_dim", "hidden_size", "num_layers", "vocab_size", "dropout", "tied")

# ModelProto field numbers (onnx.proto3).
_MODEL_METADATA_PROPS = 14
_ENTRY_KEY, _ENTRY_VALUE = 1, 2


@dataclass(frozen=True)
class ArtifactMeta:
    """Everything an lstmgen model file says about itself (the ``lstmgen.*`` keys)."""

    domain: str
    name: str
    vocab: list[str]
    special_tokens: dict[str, str]
    config: dict[str, Any]
    corpus: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    trainer: dict[str, Any] = field(default_factory=dict)
    format_version: str = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # domain data, e.g. PMI tables

    def __post_init__(self) -> None:
        missing = [k for k in _REQUIRED_CONFIG if k not in self.config]
        if missing:
            raise BrokenModelFile(f"model config lacks {', '.join(missing)}")
        if int(self.config["vocab_size"]) != len(self.vocab):
            raise BrokenModelFile(
                f"vocab has {len(self.vocab)} tokens but config says {self.config['vocab_size']}")

    def to_props(self) -> dict[str, str]:
        """The ``metadata_props`` strings (JSON where structured)."""
        props = {
            "format_version": self.format_version,
            "domain": self.domain,
            "name": self.name,
            "vocab": json.dumps(self.vocab, ensure_ascii=False),
            "special_tokens": json.dumps(self.special_tokens, ensure_ascii=False),
            "config": json.dumps(self.config),
            "corpus": json.dumps(self.corpus, ensure_ascii=False),
            "metrics": json.dumps(self.metrics),
            "created": self.created,
            "trainer": json.dumps(self.trainer),
        }
        if self.extra:
            props["extra"] = json.dumps(self.extra, ensure_ascii=False)
        return {PREFIX + k: v for k, v in props.items()}

    @classmethod
    def from_props(cls, props: dict[str, str], source: str = "model") -> ArtifactMeta:
        """Parse ``lstmgen.*`` props; raise BrokenModelFile naming what is wrong."""
        if PREFIX + "format_version" not in props:
            raise BrokenModelFile(f"{source}: not an lstmgen model (no lstmgen.* metadata)")
        try:
            def get_json(key: str, default: str = "{}") -> Any:
                return json.loads(props.get(PREFIX + key, default))

            return cls(
                format_version=props[PREFIX + "format_version"],
                domain=props[PREFIX + "domain"],
                name=props[PREFIX + "name"],
                vocab=get_json("vocab", "[]"),
                special_tokens=get_json("special_tokens"),
                config=get_json("config"),
                corpus=get_json("corpus"),
                metrics=get_json("metrics"),
                created=props.get(PREFIX + "created", ""),
                trainer=get_json("trainer"),
                extra=get_json("extra"),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise BrokenModelFile(f"{source}: bad lstmgen metadata ({exc})") from exc


def attach_metadata(model_proto: Any, meta: ArtifactMeta) -> None:
    """Write ``meta`` into an ``onnx.ModelProto``'s metadata_props (replacing lstmgen keys)."""
    keep = [p for p in model_proto.metadata_props if not p.key.startswith(PREFIX)]
    del model_proto.metadata_props[:]
    for p in keep:
        model_proto.metadata_props.add(key=p.key, value=p.value)
    for key, value in meta.to_props().items():
        model_proto.metadata_props.add(key=key, value=value)


def _read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _read_varint_file(f: Any) -> int | None:
    result = shift = 0
    while True:
        ch = f.read(1)
        if not ch:
            if shift == 0:
                return None  # clean end of file
            raise ValueError("truncated varint")
        b = ch[0]
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _parse_entry(data: bytes) -> tuple[str, str]:
    key = value = ""
    pos = 0
    while pos < len(data):
        tag, pos = _read_varint(data, pos)
        if tag & 7 != 2:
            raise ValueError("unexpected wire type in metadata entry")
        n, pos = _read_varint(data, pos)
        text = bytes(data[pos:pos + n]).decode("utf-8")
        pos += n
        if tag >> 3 == _ENTRY_KEY:
            key = text
        elif tag >> 3 == _ENTRY_VALUE:
            value = text
    return key, value


def read_props(path: str | Path) -> dict[str, str]:
    """All metadata_props of an ONNX file, reading the file top-level and seeking past the graph."""
    props: dict[str, str] = {}
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as f:
        while True:
            tag = _read_varint_file(f)
            if tag is None:
                break
            field_no, wire = tag >> 3, tag & 7
            if wire == 0:
                if _read_varint_file(f) is None:
                    raise ValueError("truncated")
            elif wire == 1:
                f.seek(8, 1)
            elif wire == 5:
                f.seek(4, 1)
            elif wire == 2:
                n = _read_varint_file(f)
                if n is None or f.tell() + n > size:
                    raise ValueError("truncated field")
                if field_no == _MODEL_METADATA_PROPS:
                    k, v = _parse_entry(f.read(n))
                    props[k] = v
                else:
                    f.seek(n, 1)
            else:
                raise ValueError(f"unknown wire type {wire}")
            if f.tell() > size:
                raise ValueError("truncated")
    return props


def read_metadata(path: str | Path) -> ArtifactMeta:
    """The ArtifactMeta of an lstmgen ``.onnx`` file, without building a session.

    Raises:
        BrokenModelFile: unreadable, truncated, not ONNX, or not an lstmgen model.
    """
    path = Path(path)
    try:
        props = read_props(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise BrokenModelFile(f"{path.name}: not a readable ONNX file ({exc})") from exc
    return ArtifactMeta.from_props(props, source=path.name)
