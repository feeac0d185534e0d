"""Studio: the one serving API the CLI, the Discord bot and the IPython magic call.

Owns the composition of registry (which model), runtime (decoder for offline calls, one
continuous-batching engine per model for asyncio callers), domain plans (form, scene and
chorale rules as constraints) and storage (every generation recorded with its automatic
metrics; ratings and comparisons). Adapters build a ``GenerateRequest``, call
``Studio.generate`` / ``agenerate`` and render the ``Generation`` they get back.

Serving side: numpy + onnxruntime + SQLAlchemy; never imports torch, training or
exporters. The store is opened lazily, so a generation with ``record=False`` never
touches a database.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from shared_model.artifact import ArtifactMeta
from shared_model.domains import get_domain
from shared_model.errors import InvalidRequest
from shared_model.serving.constraints import Constraint
from shared_model.serving.decode import MAX_SAMPLES, Decoder, GenerationResult
from shared_model.serving.engine import Engine, EngineConfig
from shared_model.serving.registry import ModelInfo, Registry
from shared_model.serving.sampling import SamplingConfig
from shared_model.serving.session import ModelSession, SessionConfig
from shared_model.settings import Settings

if TYPE_CHECKING:  # the store (SQLAlchemy, Alembic) is imported on first use only
    from shared_model.storage import GenerationRecord, GenerationView, RatingResult, Store

SOURCES = ("cli", "discord", "console", "notebook")


class DomainOutput(Protocol):
    """A domain's finished result (a poem, a scene, a chorale)."""

    text: str

    def to_dict(self) -> dict[str, Any]: ...

    def formatted(self) -> str: ...


class Task(Protocol):
    """A domain request resolved against one model: what to feed and how to constrain it."""

    controls: tuple[str, ...]
    prompt_text: str
    max_new_tokens: int

    def new_constraint(self) -> Constraint: ...

    def finish(self, generated: Sequence[int], report: dict[str, Any]) -> DomainOutput: ...

    def checks(self, output: DomainOutput) -> dict[str, float | bool]: ...


@dataclass(frozen=True)
class GenerateRequest:
    """One call: a model, a prompt, how to sample, and optional domain rules.

    Attributes:
        model: a model name (user models first, then shipped) or a path to an .onnx file.
        prompt: free-text prompt (ignored when ``domain_request`` gives its own).
        sampling: temperature, top-k/p, seed, max new tokens ...
        n: samples of the same request, decoded as one batch.
        domain_request: a domain's request (``PoemRequest``, ``SceneRequest``,
            ``ChoraleRequest``); the model's domain turns it into a ``Task``.
    """

    model: str
    prompt: str = ""
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    n: int = 1
    domain_request: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or isinstance(self.n, bool) or not 1 <= self.n <= MAX_SAMPLES:
            raise InvalidRequest(f"number of samples must be in [1, {MAX_SAMPLES}], got {self.n!r}")

    def params(self) -> dict[str, Any]:
        """What is stored as the generation's parameters."""
        d: dict[str, Any] = {"sampling": self.sampling.to_dict(), "n": self.n}
        if self.domain_request is not None:
            req = self.domain_request
            d["request"] = {"type": type(req).__name__,
                            **{k: _jsonable(v) for k, v in vars(req).items()}}
        return d


def _jsonable(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return str(v)


@dataclass
class Generation:
    """A finished, (usually) recorded generation; ``to_dict`` is the ``--json`` shape."""

    id: int | None
    model: str
    model_sha256: str
    domain: str
    prompt: str
    text: str
    formatted: str
    params: dict[str, Any]
    latency_ms: float
    provider: str
    finish_reason: str
    tokens: int
    seed: int | None
    output: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    unknown_chars: list[str] = field(default_factory=list)
    constraints: dict[str, Any] = field(default_factory=dict)
    data: bytes | None = field(default=None, repr=False)  # e.g. MIDI bytes
    result: Any = field(default=None, repr=False, compare=False)  # the domain's output object

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "model": self.model, "model_sha256": self.model_sha256,
                "domain": self.domain, "prompt": self.prompt, "text": self.text,
                "params": self.params, "latency_ms": self.latency_ms, "provider": self.provider,
                "finish_reason": self.finish_reason, "tokens": self.tokens, "seed": self.seed,
                "output": self.output, "metrics": self.metrics,
                "unknown_chars": self.unknown_chars, "constraints": self.constraints}


class Studio:
    """Registry + sessions + engines + store behind generate / rate / compare / history.

    Build one per process (the CLI per command, the bot in ``setup_hook``, the magic on
    load) and pass it to the handlers; close it at the end.
    """

    def __init__(self, settings: Settings | None = None, *,
                 session_config: SessionConfig | None = None,
                 engine_config: EngineConfig | None = None, store: Store | None = None):
        self.settings = settings or Settings.from_env()
        self.registry = Registry(self.settings)
        self.session_config = session_config or SessionConfig()
        self.engine_config = engine_config or EngineConfig()
        self._store = store
        self._sessions: dict[str, tuple[ModelInfo, ModelSession]] = {}
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        self._engine_lock: asyncio.Lock | None = None

    # -- models -----------------------------------------------------------------------

    def models(self) -> list[ModelInfo]:
        return self.registry.list()

    def model(self, name_or_path: str) -> tuple[ModelInfo, ModelSession]:
        """The model's info and a cached session (loaded once per process)."""
        info = self.registry.resolve(name_or_path)
        key = str(info.path.resolve())
        with self._lock:
            cached = self._sessions.get(key)
            if cached is None or cached[0].sha256 != info.sha256:
                cached = (info, ModelSession(info.path, self.session_config, meta=info.meta))
                self._sessions[key] = cached
            return cached

    def plan(self, meta: ArtifactMeta, domain_request: Any) -> Task | None:
        """The domain's plan for a request against this model; None for free text."""
        if domain_request is None:
            return None
        want = getattr(domain_request, "domain", None)
        if want is not None and want != meta.domain:
            raise InvalidRequest(f"model {meta.name!r} writes {meta.domain}, not {want}: "
                                 f"choose a {want} model")
        domain = get_domain(meta.domain)
        planner = getattr(domain, "plan", None)
        if planner is None:
            raise InvalidRequest(f"the {meta.domain} domain takes no {type(domain_request).__name__}")
        return planner(meta, domain_request)  # type: ignore[no-any-return]

    # -- generation -------------------------------------------------------------------

    def _prepare(self, request: GenerateRequest
                 ) -> tuple[ModelInfo, ModelSession, Task | None, SamplingConfig, str]:
        info, session = self.model(request.model)
        task = self.plan(session.meta, request.domain_request)
        sampling = request.sampling
        if sampling.seed is None:  # one seed per request, reported and stored
            sampling = sampling.with_seed(int(np.random.default_rng().integers(2**31 - 1)))
        prompt = request.prompt
        if task is not None:
            prompt = task.prompt_text
            sampling = replace(sampling, max_new_tokens=task.max_new_tokens)
        return info, session, task, sampling, prompt

    def generate(self, request: GenerateRequest, *, source: str = "cli",
                 requester: str | None = None, record: bool = True) -> list[Generation]:
        """``request.n`` samples in one batched run; recorded unless ``record=False``."""
        _check_source(source)
        info, session, task, sampling, prompt = self._prepare(request)
        results = Decoder(session).generate(
            prompt, sampling, n=request.n, controls=task.controls if task else (),
            constraint=task.new_constraint if task else None)
        gens = [self._finish(info, session, request, task, r) for r in results]
        if record:
            for g in gens:
                g.id = self.store.record_generation(self._record(g, source, requester))
        return gens

    def stream(self, request: GenerateRequest, on_piece: Callable[[int, str], None], *,
               source: str = "cli", requester: str | None = None,
               record: bool = True) -> list[Generation]:
        """Like ``generate``, calling ``on_piece(sample index, new text)`` after each step.

        The pieces are the decoder's raw text (a domain formats the finished sample, so
        ``Generation.formatted`` may differ); the finished generations are returned and
        recorded as ``generate`` does. Synchronous, for callers without an event loop of
        their own to spare (the notebook magic).
        """
        _check_source(source)
        info, session, task, sampling, prompt = self._prepare(request)
        decoder = Decoder(session)
        rows = decoder.rows(prompt, sampling, n=request.n,
                            controls=task.controls if task else (),
                            constraint=task.new_constraint if task else None)
        for step in decoder.iterate(rows):
            for row, piece in step:
                if piece:
                    on_piece(row.index, piece)
        results = [r.result(session.name, prompt, session.provider) for r in rows]
        gens = [self._finish(info, session, request, task, r) for r in results]
        if record:
            for g in gens:
                g.id = self.store.record_generation(self._record(g, source, requester))
        return gens

    async def agenerate(self, request: GenerateRequest, *, source: str = "discord",
                        requester: str | None = None, record: bool = True,
                        timeout: float | None = None) -> list[Generation]:
        """Like ``generate``, through the model's continuous-batching engine.

        Each sample is its own engine request (they share steps with every other
        request for the model); the session call never runs on the event loop thread.
        """
        _check_source(source)
        info, session, task, sampling, prompt = await asyncio.to_thread(self._prepare, request)
        engine = await self._engine(info, session)
        seed = sampling.seed if sampling.seed is not None else 0  # _prepare always seeds
        jobs = [engine.generate(prompt, replace(sampling, seed=seed + i) if i else sampling,
                                controls=task.controls if task else (),
                                constraint=task.new_constraint() if task else None,
                                timeout=timeout)
                for i in range(request.n)]
        results = await asyncio.gather(*jobs)
        gens = await asyncio.to_thread(
            lambda: [self._finish(info, session, request, task, r) for r in results])
        if record:
            for g in gens:
                g.id = await self.store.arecord_generation(self._record(g, source, requester))
        return gens

    async def astream(self, request: GenerateRequest) -> AsyncIterator[str]:
        """Text pieces of one sample as the engine produces them (not recorded)."""
        info, session, task, sampling, prompt = await asyncio.to_thread(self._prepare, request)
        engine = await self._engine(info, session)
        async for piece in engine.stream(prompt, sampling, controls=task.controls if task else (),
                                         constraint=task.new_constraint() if task else None):
            yield piece

    async def _engine(self, info: ModelInfo, session: ModelSession) -> Engine:
        if self._engine_lock is None:
            self._engine_lock = asyncio.Lock()
        async with self._engine_lock:
            key = str(info.path.resolve())
            engine = self._engines.get(key)
            if engine is None or engine.session is not session:
                engine = await Engine(session, self.engine_config).start()
                self._engines[key] = engine
            return engine

    def _finish(self, info: ModelInfo, session: ModelSession, request: GenerateRequest,
                task: Task | None, r: GenerationResult) -> Generation:
        meta = session.meta
        output: dict[str, Any] = {}
        checks: dict[str, float | bool] = {}
        text = formatted = r.text
        data: bytes | None = None
        out: Any = None
        if task is not None:
            out = task.finish(r.token_ids, r.constraint_report)
            text, formatted, output = out.text, out.formatted(), out.to_dict()
            checks = task.checks(out)
            data = getattr(out, "data", None)
        metrics = _automatic_metrics(session, r, text, checks, task.controls if task else ())
        params = request.params()
        params["sampling"] = {**params["sampling"], "seed": r.params.get("seed"),
                              "max_new_tokens": r.params.get("max_new_tokens")}
        params["sample"] = r.params.get("sample", 0)
        return Generation(
            id=None, model=info.name, model_sha256=info.sha256, domain=meta.domain,
            prompt=request.prompt if task is None else _request_prompt(request), text=text,
            formatted=formatted, params=params, latency_ms=r.latency_ms, provider=r.provider,
            finish_reason=r.finish_reason, tokens=r.tokens_generated, seed=r.params.get("seed"),
            output=output, metrics=metrics, unknown_chars=r.unknown_chars,
            constraints=r.constraint_report, data=data, result=out)

    @staticmethod
    def _record(g: Generation, source: str, requester: str | None) -> GenerationRecord:
        from shared_model.storage import GenerationRecord

        return GenerationRecord(
            model_name=g.model, model_sha256=g.model_sha256, domain=g.domain, prompt=g.prompt,
            params=g.params, output_text=g.text, source=source, requester=requester,
            latency_ms=g.latency_ms, output_data=g.data, metrics=g.metrics or None)

    # -- storage ----------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store, opened (and migrated) on first use."""
        with self._lock:
            if self._store is None:
                from shared_model.storage import Store

                self._store = Store.from_settings(self.settings)
            return self._store

    def rate(self, generation_id: int, rater: str, score: int, dimension: str = "overall",
             comment: str | None = None) -> RatingResult:
        return self.store.rate(generation_id, rater, score, dimension, comment)

    async def arate(self, generation_id: int, rater: str, score: int,
                    dimension: str = "overall", comment: str | None = None) -> RatingResult:
        return await self.store.arate(generation_id, rater, score, dimension, comment)

    def compare(self, gen_a: int, gen_b: int, rater: str, winner: str) -> int:
        return self.store.compare(gen_a, gen_b, rater, winner)

    async def acompare(self, gen_a: int, gen_b: int, rater: str, winner: str) -> int:
        return await self.store.acompare(gen_a, gen_b, rater, winner)

    def history(self, *, limit: int = 20, requester: str | None = None,
                source: str | None = None, model: str | None = None) -> list[GenerationView]:
        return self.store.history(limit=limit, requester=requester, source=source, model=model)

    async def ahistory(self, *, limit: int = 20, requester: str | None = None,
                       source: str | None = None, model: str | None = None
                       ) -> list[GenerationView]:
        return await self.store.ahistory(limit=limit, requester=requester, source=source,
                                         model=model)

    def get(self, generation_id: int) -> GenerationView:
        return self.store.get_generation(generation_id)

    def stats(self, *, model: str | None = None) -> dict[str, Any]:
        return self.store.stats(model=model)

    async def astats(self, *, model: str | None = None) -> dict[str, Any]:
        return await self.store.astats(model=model)

    # -- lifecycle --------------------------------------------------------------------

    async def aclose(self, drain: bool = True) -> None:
        """Stop the engines (finishing in-flight generations when ``drain``) and the store."""
        engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            await engine.close(drain=drain)
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
            self._sessions.clear()

    def __enter__(self) -> Studio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise InvalidRequest(f"source must be one of {', '.join(SOURCES)}, got {source!r}")


def _request_prompt(request: GenerateRequest) -> str:
    """What the user typed, for the record: the domain request's own prompt fields."""
    req = request.domain_request
    for attr in ("prompt", "first_line"):
        value = getattr(req, attr, None)
        if value:
            return str(value)
    return request.prompt


def _automatic_metrics(session: ModelSession, r: GenerationResult, text: str,
                       checks: dict[str, float | bool],
                       controls: Sequence[str] = ()) -> dict[str, float]:
    """Distinct-n, domain checks and the generating model's perplexity on its output."""
    from shared_model.evaluation.metrics import compute_metrics

    ppl = _self_perplexity(session, r, controls)
    return compute_metrics(text, perplexity=ppl, checks=checks or None)


def _self_perplexity(session: ModelSession, r: GenerationResult,
                     controls: Sequence[str] = ()) -> float | None:
    """exp(mean NLL) of the generated tokens given the prefix, by one session call."""
    tok = session.tokenizer
    ids = ([tok.bos_id] + [tok.token_id(t) for t in controls] + tok.encode(r.prompt)
           + list(r.token_ids))
    n = len(r.token_ids)
    if n == 0 or len(ids) < 2:
        return None
    h, c = session.initial_state(1)
    logits, _, _ = session.run(np.asarray([ids[:-1]], np.int64), h, c)  # [1, T, V]
    z = logits[0, -n:].astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    nll = -float(logp[np.arange(n), ids[-n:]].mean())
    ppl = math.exp(nll)
    return ppl if math.isfinite(ppl) and ppl >= 1.0 else None
