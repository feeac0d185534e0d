"""Chorale decoding constraints: a real decode loop over random logits must always give a
valid chorale of the requested length (four voices, no crossing, ranges, ties, fermata)."""

from __future__ import annotations

import numpy as np
import pytest

from shared_model.domains.bach import ChoraleRequest
from shared_model.domains.bach.analysis import crossing_frames, parallel_counts, range_violations
from shared_model.domains.bach.constraints import ChoraleConstraint
from shared_model.domains.bach.encoding import VOICE_RANGES, tokens_to_frames
from shared_model.domains.bach.tokenizer import MusicTokenizer
from shared_model.errors import InvalidRequest
from shared_model.serving.constraints import StepState

TOK = MusicTokenizer.default()


def _decode(constraint, rng, prompt=(), logits_fn=None, limit=20_000):
    """Sample token by token with the constraint's mask added to the logits."""
    prompt = [TOK.bos_id, TOK.token_id("<major>"), *prompt]
    generated: list[int] = []
    for _ in range(limit):
        logits = (logits_fn(rng) if logits_fn else rng.normal(0, 3, len(TOK.vocab))).astype(np.float32)
        state = StepState(prompt, generated, logits)
        if constraint.finished(state):
            return prompt, generated
        adj = constraint.adjust(state)
        assert adj.dtype == np.float32 and adj.shape == (len(TOK.vocab),)
        z = logits + adj
        assert np.isfinite(z).any(), "the mask left no token"
        p = np.exp(z - z.max())
        generated.append(int(rng.choice(len(p), p=p / p.sum())))
    raise AssertionError("decoding did not finish")


@pytest.mark.parametrize("bars,seed", [(1, 0), (2, 1), (4, 2), (8, 3), (3, 4)])
def test_random_logits_always_give_a_valid_chorale(bars, seed):
    rng = np.random.default_rng(seed)
    con = ChoraleConstraint(TOK, bars)
    _, gen = _decode(con, rng)
    assert gen[-1] == TOK.eos_id and gen.count(TOK.eos_id) == 1
    frames = tokens_to_frames(TOK.decode(gen).split())  # strict: every tie is valid
    assert len(frames) == bars * 16
    assert bool(frames.fermata[-1])
    crossed, full = crossing_frames(frames.pitches)
    assert crossed == 0
    assert range_violations(frames) == 0
    # rests only as whole leading frames
    rest = frames.pitches < 0
    first_sound = int(np.argmax(~rest.all(axis=1)))
    assert not rest[first_sound:].any() and full == len(frames) - first_sound
    assert (rest[:first_sound].all(axis=1)).all() and first_sound <= 15
    rep = con.report()
    assert rep["complete"] and rep["ended_with_fermata"] and rep["frames"] == bars * 16
    assert parallel_counts(frames.pitches) == (0, 0) and rep["relaxed"] == []


def test_parallels_are_banned_by_default_and_allowed_on_request():
    """Logits that favour moving every voice up a tone from a C major triad in root position
    with doubled root (C-G-E-C: octaves S/B, fifth A/B...) would write parallels; the default
    rule refuses them, allow_parallels=True lets the model do it."""
    opening = ["S:72", "A:67", "T:64", "B:48", "|"]
    target = {"S:74", "A:69", "T:66", "B:50"}  # everything a whole tone up
    bias = np.array([8.0 if t in target else 0.0 for t in TOK.vocab], np.float32)

    def run(con):
        prompt, gen = _decode(con, np.random.default_rng(0), [TOK.token_id(t) for t in opening],
                              logits_fn=lambda r: bias + r.normal(0, 0.1, len(TOK.vocab)))
        return tokens_to_frames(TOK.decode(prompt[2:] + gen).split())

    strict = run(ChoraleConstraint(TOK, 1))
    assert parallel_counts(strict.pitches[:2]) == (0, 0)
    loose = run(ChoraleConstraint(TOK, 1, no_parallels=False))
    assert loose.pitches[1].tolist() == [74, 69, 66, 50]
    assert parallel_counts(loose.pitches[:2])[1] > 0 and parallel_counts(loose.pitches[:2])[0] > 0
    from shared_model.domains.bach import ChoraleRequest

    assert ChoraleRequest(bars=1).constraint(TOK).no_parallels
    assert not ChoraleRequest(bars=1, allow_parallels=True).constraint(TOK).no_parallels


def test_biased_logits_cannot_break_rules():
    """Logits that push hard for crossing, ties, rests and <eos> are still overruled."""
    tie_ids = [i for i, t in enumerate(TOK.vocab) if t.endswith("~")]
    low_s = [TOK.token_id(f"S:{VOICE_RANGES['S'][0]}")]
    high_b = [TOK.token_id(f"B:{VOICE_RANGES['B'][1]}")]
    rests = [TOK.token_id(f"{v}:-") for v in "SATB"]

    def logits_fn(rng):
        z = rng.normal(0, 1, len(TOK.vocab))
        z[tie_ids] += 8
        z[low_s + high_b + rests] += 12
        z[TOK.eos_id] += 20
        z[TOK.token_id("|F")] += 5
        return z

    con = ChoraleConstraint(TOK, 2)
    _, gen = _decode(con, np.random.default_rng(7), logits_fn=logits_fn)
    frames = tokens_to_frames(TOK.decode(gen).split())
    assert len(frames) == 32 and crossing_frames(frames.pitches)[0] == 0
    sounding = ~(frames.pitches < 0).all(axis=1)
    assert sounding.sum() >= 17  # at most 15 leading rest frames


def test_a_prompt_of_frames_counts_towards_the_bars():
    opening = TOK.encode("S:72 A:67 T:64 B:48 | S:72~ A:67~ T:64~ B:48~ |")
    con = ChoraleConstraint(TOK, 1)
    prompt, gen = _decode(con, np.random.default_rng(3), prompt=opening)
    frames = tokens_to_frames(TOK.decode(prompt + gen).split())
    assert len(frames) == 16 and frames.pitches[0].tolist() == [72, 67, 64, 48]


@pytest.mark.parametrize("opening", [
    "S:72~ A:67 T:64 B:48 |",         # a tie with nothing before it
    "A:67 S:72 T:64 B:48 |",          # voices out of order
    "S:72 A:67 T:64 B:48 S:72 |",     # a fifth voice token instead of the delimiter
])
def test_malformed_prompt_frames_are_rejected(opening):
    con = ChoraleConstraint(TOK, 2)
    state = StepState([TOK.bos_id, *TOK.encode(opening)], [], np.zeros(len(TOK.vocab), np.float32))
    with pytest.raises(InvalidRequest, match="frame 0"):
        con.adjust(state)


def test_a_crossing_prompt_is_accepted_but_generation_after_it_does_not_cross():
    con = ChoraleConstraint(TOK, 1)
    opening = TOK.encode("S:72 A:76 T:64 B:48 |")
    prompt, gen = _decode(con, np.random.default_rng(5), prompt=opening)
    frames = tokens_to_frames(TOK.decode(prompt + gen).split())
    assert crossing_frames(frames.pitches[1:])[0] == 0


def test_tie_is_offered_only_for_the_same_pitch():
    con = ChoraleConstraint(TOK, 2)
    state = StepState([TOK.bos_id, *TOK.encode("S:72 A:67 T:64 B:48 |")], [],
                      np.zeros(len(TOK.vocab), np.float32))
    allowed = {TOK.vocab[i] for i in np.flatnonzero(np.isfinite(con.adjust(state)))}
    assert "S:72~" in allowed and "S:71~" not in allowed and "S:71" in allowed
    assert not any(t.startswith(("A:", "T:", "B:", "<", "|")) for t in allowed)
    assert "S:-" not in allowed  # no rests after the music has started


@pytest.mark.parametrize("bars", [0, -1, 65, 10_000])
def test_bad_bars_are_rejected(bars):
    with pytest.raises(InvalidRequest, match="bars"):
        ChoraleConstraint(TOK, bars)
    with pytest.raises(InvalidRequest, match="bars"):
        ChoraleRequest(bars=bars)


def test_request_builds_controls_and_constraint():
    req = ChoraleRequest(bars=2, key="F#m", tempo=100)
    assert req.controls() == ("<minor>",)
    assert ChoraleRequest(key="Bb").controls() == ("<major>",)
    assert req.max_new_tokens() == 2 * 16 * 5 + 1
    con = req.constraint(TOK)
    assert con.total_frames == 32


def test_reusing_a_constraint_for_a_shorter_sequence_restarts_it():
    con = ChoraleConstraint(TOK, 1)
    rng = np.random.default_rng(11)
    prompt, gen = _decode(con, rng)
    assert con.finished(StepState(prompt, gen, np.zeros(len(TOK.vocab), np.float32)))
    assert not con.finished(StepState(prompt, [], np.zeros(len(TOK.vocab), np.float32)))


def test_a_piano_roll_benchmark_model_refuses_to_write_chorales():
    """A model trained on jsb-chorales-quarter.json has one frame per quarter note: it scores
    the JSB benchmark but would render four times too fast, so the plan says so."""
    from shared_model.artifact import ArtifactMeta
    from shared_model.domains.bach import ChoraleRequest
    from shared_model.domains.bach.task import plan_chorale
    from shared_model.errors import InvalidRequest

    vocab = TOK.vocab
    base = dict(domain="bach", name="jsb-quarter", vocab=vocab, special_tokens=TOK.special_tokens,
                config={"vocab_size": len(vocab), "embed_dim": 8, "hidden_size": 8, "num_layers": 1,
                        "dropout": 0.0, "tied": False})
    roll = ArtifactMeta(**base, corpus={"stats": {"format": "piano roll (pitch sets, voiced by rule)"}})
    with pytest.raises(InvalidRequest, match="piano-roll.*does not write"):
        plan_chorale(roll, ChoraleRequest(bars=2))
    sep = ArtifactMeta(**base, corpus={"stats": {"format": "voice-separated"}})
    assert plan_chorale(sep, ChoraleRequest(bars=2)).request.bars == 2
