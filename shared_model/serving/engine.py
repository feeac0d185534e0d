"""Continuous batching: concurrent requests for one model share each decoding step.

Owns ``EngineConfig`` and ``Engine``. Requests join (after a prefill: one call per group of
equal-length prompts) and leave (finished, timed out or cancelled) between steps; every
step is ONE batched session call over all active rows. Each request keeps its own RNG and rows are
computed independently (``decode.sample_rows``), so a request's output equals running it
alone with the same seed. A bounded queue raises ``Busy`` past it. The blocking work
(prefill, sampling, the session call) runs in one worker thread, never on the event
loop. numpy + onnxruntime only; never imports torch, training or exporters.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from shared_model.errors import Busy, GenerationTimeout, InvalidRequest
from shared_model.serving.constraints import Constraint
from shared_model.serving.decode import (
    DecodeRow,
    GenerationResult,
    encode_prompt,
    prefill_batch,
    sample_rows,
    seeded,
)
from shared_model.serving.sampling import SamplingConfig
from shared_model.serving.session import ModelSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    """Limits of one model's engine.

    Attributes:
        max_batch: rows decoded together in one step.
        max_queue: requests waiting for a row; one more raises Busy.
        timeout_s: default per-request time limit (seconds); None = no limit.
    """

    max_batch: int = 32
    max_queue: int = 256
    timeout_s: float | None = 60.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_batch <= 1024:
            raise InvalidRequest(f"max_batch must be in [1, 1024], got {self.max_batch}")
        if not 0 <= self.max_queue <= 100_000:
            raise InvalidRequest(f"max_queue must be in [0, 100000], got {self.max_queue}")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise InvalidRequest(f"timeout_s must be positive or None, got {self.timeout_s}")


@dataclass(eq=False)
class _Request:
    row: DecodeRow
    prompt: str
    future: asyncio.Future[GenerationResult]
    pieces: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    cancelled: bool = False


@dataclass
class _StepOutput:
    pieces: list[tuple[_Request, str]]
    finished: list[_Request]
    failed: list[tuple[_Request, BaseException]]


class Engine:
    """Continuous batching over one ``ModelSession``. Use ``async with Engine(...)``."""

    def __init__(self, session: ModelSession, config: EngineConfig | None = None):
        self.session = session
        self.config = config or EngineConfig()
        self._pending: deque[_Request] = deque()
        self._active: list[_Request] = []  # rows of the batch, in state order
        self._h: np.ndarray | None = None  # [L, B, H] state of the active rows
        self._c: np.ndarray | None = None
        self._logits: np.ndarray | None = None  # [B, V] next-token logits of the active rows
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmgen-engine")
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.steps = 0  # batched decoding steps run (for tests and stats)
        self.max_rows_seen = 0

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> Engine:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="lstmgen-engine")
        return self

    async def __aenter__(self) -> Engine:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self, drain: bool = True) -> None:
        """Stop accepting requests; finish (drain) or cancel the ones in flight; stop."""
        self._closing = True
        if not drain:
            for req in list(self._pending) + self._active:
                req.cancelled = True
                if not req.future.done():
                    req.future.set_exception(Busy("the engine was closed before this request finished"))
                    req.pieces.put_nowait(None)
            self._pending.clear()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        self._executor.shutdown(wait=True)

    @property
    def active(self) -> int:
        """Rows in the batch now."""
        return len(self._active)

    @property
    def queued(self) -> int:
        return len(self._pending)

    # -- requests ----------------------------------------------------------------------

    def submit(self, prompt: str = "", config: SamplingConfig | None = None, *,
               controls: Sequence[str] = (), constraint: Constraint | None = None) -> _Request:
        """Queue one request (validated now); raises Busy when the queue is full."""
        if self._closing:
            raise Busy("the engine is shutting down; try again shortly")
        if self._task is None:
            raise InvalidRequest("the engine is not started (use 'async with Engine(...)')")
        if len(self._pending) >= self.config.max_queue:
            raise Busy(f"model {self.session.name!r} is busy ({len(self._pending)} requests "
                       "waiting); try again shortly")
        prefix = encode_prompt(self.session.tokenizer, prompt, controls)
        row = DecodeRow(self.session.tokenizer, prefix, seeded(config or SamplingConfig()), 0, constraint)
        req = _Request(row, prompt, asyncio.get_running_loop().create_future())
        self._pending.append(req)
        self._wake.set()
        return req

    async def generate(self, prompt: str = "", config: SamplingConfig | None = None, *,
                       controls: Sequence[str] = (), constraint: Constraint | None = None,
                       timeout: float | None = None) -> GenerationResult:
        """Generate one sample; raises Busy, GenerationTimeout, or CancelledError."""
        req = self.submit(prompt, config, controls=controls, constraint=constraint)
        limit = timeout if timeout is not None else self.config.timeout_s
        try:
            return await asyncio.wait_for(asyncio.shield(req.future), limit)
        except asyncio.TimeoutError:
            req.cancelled = True
            raise GenerationTimeout(f"generation took longer than {limit:g} s and was stopped") from None
        except asyncio.CancelledError:
            req.cancelled = True  # the slot is freed before the next step
            raise

    async def stream(self, prompt: str = "", config: SamplingConfig | None = None, *,
                     controls: Sequence[str] = (), constraint: Constraint | None = None
                     ) -> AsyncIterator[str]:
        """Text pieces of one sample as the batch produces them."""
        req = self.submit(prompt, config, controls=controls, constraint=constraint)
        try:
            while (piece := await req.pieces.get()) is not None:
                yield piece
            req.future.result()  # re-raise a failure
        finally:
            if not req.future.done():
                req.cancelled = True

    # -- the loop ----------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._active and not self._pending:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            joiners: list[_Request] = []
            while self._pending and len(self._active) + len(joiners) < self.config.max_batch:
                req = self._pending.popleft()
                if not req.cancelled:
                    joiners.append(req)
            try:
                out = await loop.run_in_executor(self._executor, self._step, joiners)
            except Exception as exc:  # a session failure fails the requests in the batch
                log.exception("decoding step failed")
                out = _StepOutput([], [], [(r, exc) for r in self._active + joiners])
                self._active, self._h, self._c, self._logits = [], None, None, None
            self._deliver(out)

    def _deliver(self, out: _StepOutput) -> None:
        for req, piece in out.pieces:
            if piece and not req.cancelled:
                req.pieces.put_nowait(piece)
        for req in out.finished:
            if not req.future.done():
                req.future.set_result(req.row.result(self.session.name, req.prompt,
                                                     self.session.provider))
            req.pieces.put_nowait(None)
        for req, exc in out.failed:
            if not req.future.done():
                req.future.set_exception(exc)
            req.pieces.put_nowait(None)

    def _step(self, joiners: list[_Request]) -> _StepOutput:
        """Worker thread: drop cancelled rows, prefill joiners, sample, run one batched step."""
        failed: list[tuple[_Request, BaseException]] = []
        self._keep([i for i, r in enumerate(self._active) if not r.cancelled])
        # joiners with prompts of equal length share one prefill call (B = group, T = length)
        groups: dict[int, list[_Request]] = {}
        for req in joiners:
            groups.setdefault(len(req.row.prefix.ids), []).append(req)
        for group in groups.values():
            try:
                logits, h, c = prefill_batch(self.session, [r.row.prefix for r in group])
            except Exception as exc:
                failed.extend((r, exc) for r in group)
                continue
            self._active.extend(group)
            self._h = h if self._h is None else np.concatenate([self._h, h], axis=1)
            self._c = c if self._c is None else np.concatenate([self._c, c], axis=1)
            self._logits = logits if self._logits is None else np.concatenate([self._logits, logits])
        if not self._active:
            return _StepOutput([], [], failed)
        assert self._logits is not None and self._h is not None and self._c is not None
        rows = [r.row for r in self._active]
        sample_rows(rows, self._logits)
        self.steps += 1
        self.max_rows_seen = max(self.max_rows_seen, len(rows))
        pieces = [(r, r.row.take_text()) for r in self._active]
        finished = [r for r in self._active if r.row.done]
        self._keep([i for i, r in enumerate(self._active) if not r.row.done])
        if self._active:
            tokens = np.fromiter((r.row.last for r in self._active), np.int64, len(self._active))
            out, self._h, self._c = self.session.run(tokens[:, None], self._h, self._c)
            self._logits = out[:, -1]
        return _StepOutput(pieces, finished, failed)

    def _keep(self, keep: list[int]) -> None:
        """Keep only these active rows (and their state)."""
        if len(keep) == len(self._active):
            return
        self._active = [self._active[i] for i in keep]
        if not keep:
            self._h = self._c = self._logits = None
            return
        assert self._h is not None and self._c is not None and self._logits is not None
        self._h, self._c, self._logits = self._h[:, keep], self._c[:, keep], self._logits[keep]


__all__ = ["Engine", "EngineConfig"]
