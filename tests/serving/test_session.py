"""ModelSession on a real exported model, and the provider choice (pure, tested on CPU)."""

from __future__ import annotations

import numpy as np
import pytest

from shared_model.errors import BrokenModelFile, InvalidRequest
from shared_model.serving.session import (
    CPU,
    CUDA,
    ModelSession,
    SessionConfig,
    available_providers,
    select_providers,
)


@pytest.mark.parametrize("available, preference, expected", [
    ([CPU], "auto", [CPU]),
    (["AzureExecutionProvider", CPU], "auto", [CPU]),
    ([CUDA, CPU], "auto", [CUDA, CPU]),
    ([CUDA, CPU], "cpu", [CPU]),
    ([CUDA, CPU], "cuda", [CUDA, CPU]),
    (["TensorrtExecutionProvider", CUDA, CPU], "auto", [CUDA, CPU]),
])
def test_select_providers(available, preference, expected):
    assert select_providers(available, preference) == expected


def test_cuda_preference_without_cuda_is_a_clear_error():
    with pytest.raises(InvalidRequest, match="CUDA"):
        select_providers([CPU], "cuda")


@pytest.mark.parametrize("kwargs", [{"threads": -1}, {"provider": "tpu"}])
def test_bad_session_config(kwargs):
    with pytest.raises(InvalidRequest):
        SessionConfig(**kwargs)


def test_run_shapes_and_provider(tiny_model):
    s = ModelSession(tiny_model, SessionConfig(threads=1))
    assert s.provider in available_providers()
    if CUDA not in available_providers():
        assert s.provider == CPU
    h, c = s.initial_state(3)
    assert h.shape == (s.num_layers, 3, s.hidden_size)
    logits, h2, c2 = s.run(np.zeros((3, 5), np.int64), h, c)
    assert logits.shape == (3, 5, s.vocab_size) and logits.dtype == np.float32
    assert h2.shape == h.shape and c2.shape == c.shape
    # one call over T tokens equals T calls of one token with the state carried
    toks = np.array([[2, 7, 9, 11]], np.int64)
    full, hf, _ = s.run(toks, *s.initial_state(1))
    h, c = s.initial_state(1)
    for t in range(4):
        step, h, c = s.run(toks[:, t:t + 1], h, c)
        np.testing.assert_allclose(step[:, 0], full[:, t], atol=1e-5)
    np.testing.assert_allclose(h, hf, atol=1e-5)


def test_metadata_ok_but_graph_broken_is_brokenmodelfile(tiny_model, tmp_path):
    data = tiny_model.read_bytes()
    # keep the metadata readable (it sits at the end) but wreck the graph bytes
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(data[:40] + b"\x00" * 200 + data[240:])
    with pytest.raises(BrokenModelFile):
        ModelSession(bad)
