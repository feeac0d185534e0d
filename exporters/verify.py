"""Parity of an exported ``.onnx`` model with the PyTorch module it came from.

Owns the parity check: random tokens and real text, T = 1 and T = 64, batch 1 and 8,
several calls in a row with the state carried, comparing logits and the final state.
Imports torch (through the checkpoint) and the serving session; used by ``lstmgen export
--verify`` and the exporter tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shared_model.errors import InvalidRequest

TOLERANCE = 1e-4
CALLS = 3  # consecutive calls per case, state carried


def _compare(model: Any, session: Any, tokens: np.ndarray, T: int) -> dict[str, Any]:
    """Feed ``tokens`` [B, calls*T] in calls of T; max |diff| of logits and state."""
    import torch

    B = tokens.shape[0]
    h, c = session.initial_state(B)
    th, tc = torch.from_numpy(h.copy()), torch.from_numpy(c.copy())
    max_logit = max_state = 0.0
    with torch.inference_mode():
        for t0 in range(0, tokens.shape[1], T):
            chunk = tokens[:, t0:t0 + T]
            logits, h, c = session.run(chunk, h, c)
            tl, (th, tc) = model(torch.from_numpy(chunk), (th, tc))
            max_logit = max(max_logit, float(np.abs(logits - tl.numpy()).max()))
            # the cell state is unbounded (|c| reaches tens): compare it relative to 1 + |c|
            for mine, ref in ((h, th.numpy()), (c, tc.numpy())):
                max_state = max(max_state, float((np.abs(mine - ref) / (1.0 + np.abs(ref))).max()))
    return {"batch": B, "T": T, "calls": tokens.shape[1] // T,
            "max_abs_logit_diff": max_logit, "max_rel_state_diff": max_state}


def _text_tokens(tokenizer: Any, text: str, B: int, length: int) -> np.ndarray:
    """B windows of ``length`` ids taken from evenly spaced offsets of the text."""
    ids = tokenizer.encode(text)
    if len(ids) < length:
        ids = (ids * (length // max(len(ids), 1) + 1))
    starts = np.linspace(0, len(ids) - length, B).astype(int)
    return np.array([ids[s:s + length] for s in starts], np.int64)


def verify_parity(checkpoint_path: str | Path, onnx_path: str | Path, text: str | None = None,
                  *, tolerance: float = TOLERANCE, seed: int = 0) -> dict[str, Any]:
    """Compare the ONNX graph with the PyTorch module on random tokens and real text.

    Args:
        text: real text for the second half of the cases; without it those cases are
            skipped (the report says so).
    Returns:
        ``{"passed", "tolerance", "max_abs_logit_diff", "max_rel_state_diff", "cases"}``
        (state compared as |Δ| / (1 + |reference|), the cell state being unbounded).
    """
    from exporters.export import load_model
    from shared_model.serving.session import ModelSession, SessionConfig
    from shared_model.training.checkpoint import load_checkpoint

    if not tolerance > 0:
        raise InvalidRequest("tolerance must be positive")
    model = load_model(load_checkpoint(checkpoint_path))
    session = ModelSession(onnx_path, SessionConfig(provider="cpu"))
    if session.vocab_size != model.config.vocab_size:
        raise InvalidRequest("the model file and the checkpoint have different vocabularies")
    rng = np.random.default_rng(seed)
    cases = []
    for B in (1, 8):
        for T in (1, 64):
            toks = rng.integers(0, session.vocab_size, (B, CALLS * T), dtype=np.int64)
            cases.append({"input": "random", **_compare(model, session, toks, T)})
            if text:
                toks = _text_tokens(session.tokenizer, text, B, CALLS * T)
                cases.append({"input": "text", **_compare(model, session, toks, T)})
    worst_logit = max(c["max_abs_logit_diff"] for c in cases)
    worst_state = max(c["max_rel_state_diff"] for c in cases)
    return {"passed": worst_logit < tolerance and worst_state < tolerance,
            "tolerance": tolerance, "max_abs_logit_diff": worst_logit,
            "max_rel_state_diff": worst_state, "real_text": bool(text), "cases": cases}
