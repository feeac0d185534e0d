"""Decoding on a real exported model: prefill, batching of N samples, stops, streaming."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from shared_model.errors import InvalidRequest
from shared_model.serving.constraints import StepState
from shared_model.serving.decode import Decoder
from shared_model.serving.sampling import MAX_PROMPT_CHARS, SamplingConfig
from shared_model.serving.session import ModelSession


class RecordingSession(ModelSession):
    """The real session, recording the token shapes of every call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[int, int]] = []

    def run(self, tokens, h, c):
        self.calls.append(tuple(np.asarray(tokens).shape))
        return super().run(tokens, h, c)


@pytest.fixture
def session(tiny_model):
    return RecordingSession(tiny_model)


def test_prefill_is_one_call_then_one_step_per_token(session):
    out = Decoder(session).generate("Shall I", SamplingConfig(seed=1, max_new_tokens=12,
                                                             ignore_eos=True))[0]
    assert session.calls[0] == (1, 1 + len("Shall I"))  # <bos> + prompt in one call
    assert session.calls[1:] == [(1, 1)] * (out.tokens_generated - 1)
    assert out.tokens_generated == 12 and out.finish_reason == "length"


def test_n_samples_are_one_batched_run_and_match_solo(session):
    cfg = SamplingConfig(seed=7, max_new_tokens=15, ignore_eos=True)
    many = Decoder(session).generate("Sh", cfg, n=4)
    assert session.calls[0] == (1, 3)  # one prefill shared by all samples
    assert set(session.calls[1:]) == {(4, 1)}
    solo = Decoder(session).generate("Sh", cfg)[0]
    assert many[0].text == solo.text and many[0].token_ids == solo.token_ids
    assert len({r.text for r in many}) > 1
    assert [r.params["sample"] for r in many] == [0, 1, 2, 3]


def test_same_seed_same_text_and_seed_reported(session):
    d = Decoder(session)
    a = d.generate("So long", SamplingConfig(seed=3, max_new_tokens=30))[0]
    b = d.generate("So long", SamplingConfig(seed=3, max_new_tokens=30))[0]
    assert a.text == b.text
    c = d.generate("So long", SamplingConfig(max_new_tokens=30))[0]
    replay = d.generate("So long", SamplingConfig(seed=c.params["seed"], max_new_tokens=30))[0]
    assert replay.text == c.text


def test_greedy_follows_argmax(session):
    out = Decoder(session).generate("And", SamplingConfig(temperature=0, max_new_tokens=5,
                                                         ignore_eos=True))[0]
    h, c = session.initial_state(1)
    ids = [session.tokenizer.bos_id] + session.tokenizer.encode("And")
    logits, h, c = session.run(np.array([ids]), h, c)
    expect = []
    for _ in range(5):
        nxt = int(np.argmax(logits[0, -1]))
        expect.append(nxt)
        logits, h, c = session.run(np.array([[nxt]]), h, c)
    assert out.token_ids == expect


def test_stop_string_ends_and_is_cut(session):
    d = Decoder(session)
    free = d.generate("", SamplingConfig(seed=11, max_new_tokens=80, ignore_eos=True))[0].text
    stop = free[20:22]
    cut = d.generate("", SamplingConfig(seed=11, max_new_tokens=80, ignore_eos=True,
                                        stop=(stop,)))[0]
    assert cut.finish_reason == "stop"
    assert cut.text == free[:free.index(stop)]


def test_stream_pieces_join_to_the_text_and_hold_back_stops(session):
    d = Decoder(session)
    cfg = SamplingConfig(seed=5, max_new_tokens=60, ignore_eos=True, stop=("the ",))
    full = d.generate("Nor", cfg)[0].text
    pieces = list(d.stream("Nor", cfg))
    assert "".join(pieces) == full
    assert not any("the " in p for p in pieces)


async def test_async_stream_matches_sync(session):
    d = Decoder(session)
    cfg = SamplingConfig(seed=2, max_new_tokens=25)
    pieces = [p async for p in d.astream("By", cfg)]
    assert "".join(pieces) == d.generate("By", cfg)[0].text
    assert asyncio.get_running_loop().is_running()


def test_empty_prompt_starts_from_bos(session):
    out = Decoder(session).generate("", SamplingConfig(seed=1, max_new_tokens=5))[0]
    assert session.calls[0] == (1, 1)
    assert out.prompt == "" and out.tokens_generated >= 1


def test_unknown_characters_are_reported(session):
    out = Decoder(session).generate("Shall 月 Z#", SamplingConfig(seed=1, max_new_tokens=3))[0]
    assert out.unknown_chars == ["月", "Z", "#"]


def test_prompt_over_the_cap_is_refused(session):
    with pytest.raises(InvalidRequest, match="limit"):
        Decoder(session).generate("a" * (MAX_PROMPT_CHARS + 1))


def test_bad_sample_count(session):
    with pytest.raises(InvalidRequest, match="samples"):
        Decoder(session).generate("a", n=0)


class OnlyVowels:
    """A real constraint: allow only a few characters, finish after 3 spaces."""

    def __init__(self, tokenizer, allowed="ae "):
        self.tokenizer = tokenizer
        self.mask = np.full(len(tokenizer.vocab), -np.inf, np.float32)
        for ch in allowed:
            self.mask[tokenizer.token_id(ch)] = 0.0
        self.steps = 0

    def adjust(self, state: StepState):
        self.steps += 1
        return self.mask

    def finished(self, state: StepState) -> bool:
        return self.tokenizer.decode(state.generated).count(" ") >= 3

    def report(self):
        return {"steps": self.steps}


def test_constraint_masks_and_finishes(session):
    tok = session.tokenizer
    out = Decoder(session).generate("", SamplingConfig(seed=4, max_new_tokens=200),
                                    constraint=OnlyVowels(tok))[0]
    assert set(out.text) <= set("ae ")
    assert out.finish_reason == "constraint" and out.text.count(" ") == 3
    assert out.constraint_report == {"steps": out.tokens_generated}
    many = Decoder(session).generate("", SamplingConfig(seed=4, max_new_tokens=200), n=3,
                                     constraint=lambda: OnlyVowels(tok))
    assert all(set(r.text) <= set("ae ") for r in many)
    with pytest.raises(InvalidRequest, match="factory"):
        Decoder(session).generate("", n=2, constraint=OnlyVowels(tok))


def test_eos_ends_generation(session):
    tok = session.tokenizer

    class ForceEos:
        def adjust(self, state):
            m = np.full(len(tok.vocab), -np.inf, np.float32)
            m[tok.eos_id if len(state.generated) == 2 else tok.token_id("a")] = 0.0
            return m

        def finished(self, state):
            return False

        def report(self):
            return {}

    out = Decoder(session).generate("", SamplingConfig(seed=1), constraint=ForceEos())[0]
    assert out.finish_reason == "eos" and out.text == "aa" and out.token_ids == [tok.token_id("a")] * 2
