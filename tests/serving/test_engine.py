"""Continuous batching on a real model: solo equivalence, Busy, timeout, cancellation."""

from __future__ import annotations

import asyncio
import threading

import pytest

from shared_model.errors import Busy, GenerationTimeout, InvalidRequest
from shared_model.serving.decode import Decoder
from shared_model.serving.engine import Engine, EngineConfig
from shared_model.serving.sampling import SamplingConfig
from shared_model.serving.session import ModelSession


class ThreadRecordingSession(ModelSession):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.threads: set[int] = set()
        self.batch_sizes: list[int] = []

    def run(self, tokens, h, c):
        self.threads.add(threading.get_ident())
        self.batch_sizes.append(tokens.shape[0])
        return super().run(tokens, h, c)


@pytest.fixture
def session(tiny_model):
    return ThreadRecordingSession(tiny_model)


def _long():
    return SamplingConfig(seed=1, max_new_tokens=4000, ignore_eos=True)


async def _until(predicate, timeout=10.0):
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.002)


async def test_batched_requests_equal_solo_runs(session):
    configs = [SamplingConfig(seed=i, max_new_tokens=10 + 4 * i, top_k=(i % 3) * 7,
                              top_p=0.9 if i % 2 else 1.0,
                              repetition_penalty=1.3 if i % 4 == 0 else 1.0,
                              temperature=0.0 if i == 5 else 0.9, stop=("e t",) if i == 3 else ())
               for i in range(10)]
    prompts = ["", "Sh", "So long as", "Nor", "", "And", "When in", "By", "Thou", "Rough"]
    solo = [Decoder(session).generate(p, c)[0] for p, c in zip(prompts, configs, strict=True)]
    session.batch_sizes.clear()
    session.threads.clear()
    async with Engine(session) as engine:
        results = await asyncio.gather(*[engine.generate(p, c) for p, c in zip(prompts, configs, strict=True)])
        assert engine.max_rows_seen == 10  # they really shared steps
    assert [r.text for r in results] == [r.text for r in solo]
    assert [r.token_ids for r in results] == [r.token_ids for r in solo]
    assert max(session.batch_sizes) > 1
    assert threading.get_ident() not in session.threads  # never on the event loop thread


async def test_requests_join_and_leave_between_steps(session):
    async with Engine(session) as engine:
        first = asyncio.create_task(engine.generate("", SamplingConfig(seed=1, max_new_tokens=60,
                                                                       ignore_eos=True)))
        await _until(lambda: engine.steps >= 5)
        late = await engine.generate("So", SamplingConfig(seed=2, max_new_tokens=5, ignore_eos=True))
        assert not first.done()  # the late one joined, finished and left while first ran
        alone = Decoder(session).generate("So", SamplingConfig(seed=2, max_new_tokens=5,
                                                              ignore_eos=True))[0]
        assert late.text == alone.text
        assert (await first).tokens_generated == 60


async def test_stream_through_the_engine(session):
    cfg = SamplingConfig(seed=9, max_new_tokens=30)
    async with Engine(session) as engine:
        pieces = [p async for p in engine.stream("Shall", cfg)]
    assert "".join(pieces) == Decoder(session).generate("Shall", cfg)[0].text


async def test_full_queue_is_busy(session):
    async with Engine(session, EngineConfig(max_batch=1, max_queue=2)) as engine:
        cfg = SamplingConfig(seed=1, max_new_tokens=3)
        reqs = [engine.submit("a", cfg), engine.submit("b", cfg)]
        with pytest.raises(Busy, match="busy"):
            engine.submit("c", cfg)
        results = await asyncio.gather(*(r.future for r in reqs))
        assert len(results) == 2


async def test_timeout_frees_the_slot(session):
    async with Engine(session, EngineConfig(timeout_s=30)) as engine:
        with pytest.raises(GenerationTimeout, match="longer than"):
            await engine.generate("", _long(), timeout=0.05)
        await _until(lambda: engine.active == 0)
        ok = await engine.generate("", SamplingConfig(seed=1, max_new_tokens=3))
        assert ok.tokens_generated >= 1


async def test_cancellation_frees_the_slot(session):
    async with Engine(session) as engine:
        task = asyncio.create_task(engine.generate("", _long()))
        await _until(lambda: engine.active == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _until(lambda: engine.active == 0)
        assert engine.queued == 0


async def test_close_drains_and_then_refuses(session):
    engine = await Engine(session).start()
    pending = asyncio.create_task(engine.generate("", SamplingConfig(seed=3, max_new_tokens=20,
                                                                     ignore_eos=True)))
    await _until(lambda: engine.active == 1)
    await engine.close()
    assert (await pending).tokens_generated == 20  # drained, not dropped
    with pytest.raises(Busy, match="shutting down"):
        engine.submit("", SamplingConfig())


async def test_close_without_drain_fails_in_flight(session):
    engine = await Engine(session).start()
    task = asyncio.create_task(engine.generate("", _long()))
    await _until(lambda: engine.active == 1)
    await engine.close(drain=False)
    with pytest.raises(Busy, match="closed"):
        await task


def test_bad_engine_config():
    with pytest.raises(InvalidRequest):
        EngineConfig(max_batch=0)
    with pytest.raises(InvalidRequest):
        EngineConfig(timeout_s=0)
