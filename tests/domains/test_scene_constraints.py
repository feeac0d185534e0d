"""SceneConstraint driven by a real decode loop: seeded sampling over random logits plus
``adjust``, with a CharTokenizer built from the fixture play. Every scene is checked
from its text alone (parse_scene, the corpus parser), not from the constraint's state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared_model.domains.shakespeare import (
    SceneRequest,
    SceneResult,
    is_speaker_header,
    parse_turns,
    prepare_scene,
)
from shared_model.domains.shakespeare.constraints import MAX_LINE_CHARS, WRAP_LINE_CHARS
from shared_model.serving.constraints import StepState
from shared_model.tokenizer import CharTokenizer

PLAY = Path(__file__).parents[1] / "fixtures" / "shakespeare" / "play.txt"
CAST = [  # corpus names and names the fixture play never mentions
    "ROMEO,JULIET", "ROMEO,JULIET,NURSE", "HAMLET,OPHELIA", "BRUTUS", "prospero, miranda, Ariel",
    "FRIAR LAURENCE,ROMEO,PARIS,BALTHASAR", "ROSALINE,ROMEO,ROSS", "A,AB,ABC",
]
FIRST_LINES = ["", "But, soft! what light through yonder window breaks?", "Speak, speak."]


@pytest.fixture(scope="module")
def tok() -> CharTokenizer:
    return CharTokenizer.build([PLAY.read_text(encoding="utf-8")])


def decode(tok: CharTokenizer, request: SceneRequest, rng: np.random.Generator, *,
           bias: dict[str, float] | None = None, scale: float = 2.0,
           max_new_tokens: int = 4096) -> tuple[SceneResult, list[int]]:
    """Sample a scene over random logits (Gumbel-max = sampling from softmax)."""
    plan = prepare_scene(tok.vocab, request, special_tokens=tok.special_tokens,
                         max_new_tokens=max_new_tokens)
    constraint = plan.new_constraint()
    prompt = [tok.bos_id] + tok.encode(plan.prompt)
    offset = np.zeros(len(tok), np.float32)
    for ch, b in (bias or {}).items():
        if ch in tok.vocab:
            offset[tok.token_id(ch)] += b
    generated: list[int] = []
    while len(generated) < plan.max_new_tokens:
        logits = (rng.standard_normal(len(tok)) * scale).astype(np.float32) + offset
        state = StepState(prompt, generated, logits)
        adjust = constraint.adjust(state)
        assert adjust is not None and adjust.dtype == np.float32 and adjust.shape == (len(tok),)
        generated.append(int(np.argmax(logits + adjust + rng.gumbel(size=len(tok)))))
        if constraint.finished(StepState(prompt, generated, logits)):
            break
    assert generated[-1] != tok.eos_id  # finished before <eos> was needed
    assert constraint.adjust(StepState(prompt, generated, logits))[tok.eos_id] == 0.0
    return plan.result(tok.decode(generated), constraint.report()), generated


def check_scene(result: SceneResult, request: SceneRequest) -> None:
    """Everything the issue asks of a scene, from the text."""
    assert result.problems == [], (result.problems, result.text)
    spoken = [t for t in result.turns if t.speaker is not None]
    assert len(spoken) == request.turns
    assert {t.speaker for t in spoken} <= set(result.names)
    assert all(t.text.strip() for t in spoken)
    if request.first_line:
        assert result.text.startswith(f"{result.names[0]}:\n{request.first_line}\n")
    if not request.stage_directions:
        assert "[" not in result.text and "]" not in result.text
        # the corpus parser reads the same speakers, in the same order
        assert [t.speaker for t in parse_turns(result.text)] == [t.speaker for t in spoken]
    assert "\n\n\n" not in result.text
    for t in spoken:  # no speech line could pass for an upper-case header
        for line in t.text.split("\n"):
            name = is_speaker_header(line)
            assert name is None or name != name.upper(), line
            assert len(line) <= max(MAX_LINE_CHARS, len(request.first_line))
    report = result.report
    assert report["complete"] and report["turns"] == request.turns
    assert report["speakers"] == [t.speaker for t in spoken]
    assert report["off_grammar_tokens"] == 0


def test_hundred_sampled_scenes_use_only_the_given_speakers(tok: CharTokenizer) -> None:
    rng = np.random.default_rng(2024)
    newline_bias = [0.0, 2.0, 3.0, 4.0]
    for i in range(100):
        request = SceneRequest(CAST[i % len(CAST)], first_line=FIRST_LINES[i % 3],
                               turns=1 + i % 8, max_turn_chars=[120, 300, 600][i % 3])
        result, _ = decode(tok, request, rng, bias={"\n": newline_bias[i % 4]})
        check_scene(result, request)


@pytest.mark.parametrize("bias", [
    {":": 6.0, "R": 4.0, "O": 4.0, "M": 4.0, "E": 4.0},  # pushes towards "ROMEO:" lines
    {"\n": 8.0},  # wants blank lines and empty turns everywhere
    {"\n": -30.0},  # never wants a line end: caps must end lines and turns
    {"<eos>": 30.0, "<unk>": 30.0, "<pad>": 30.0, "<bos>": 30.0},  # specials are never text
    {" ": 8.0},  # whitespace-only lines would be blank lines in disguise
])
def test_adversarial_logits_cannot_break_the_scene(tok: CharTokenizer, bias: dict) -> None:
    rng = np.random.default_rng(7)
    for i in range(6):
        request = SceneRequest("ROMEO,JULIET,HAMLET", turns=4, first_line=FIRST_LINES[i % 3],
                               max_turn_chars=200)
        result, generated = decode(tok, request, rng, bias=bias)
        check_scene(result, request)
        assert not any(tok.is_special(t) for t in generated)
        for t in result.turns:
            assert len(t.text) <= 200 + MAX_LINE_CHARS + len(request.first_line) + 1


def test_unknown_names_are_spelled_by_the_constraint(tok: CharTokenizer) -> None:
    """With logits that favour a corpus name's letters, the header still spells the request."""
    rng = np.random.default_rng(3)
    bias = {ch: 10.0 for ch in "ROMEJULIT"}
    request = SceneRequest("OPHELIA,BRUTUS", turns=4)
    result, _ = decode(tok, request, rng, bias=bias)
    check_scene(result, request)
    assert [t.speaker for t in result.turns] == ["OPHELIA", "BRUTUS", "OPHELIA", "BRUTUS"] or \
        [t.speaker for t in result.turns] == ["BRUTUS", "OPHELIA", "BRUTUS", "OPHELIA"]


def test_header_trie_allows_exactly_the_next_letters(tok: CharTokenizer) -> None:
    plan = prepare_scene(tok.vocab, SceneRequest("ROMEO,ROSALINE,ROS", turns=2),
                         special_tokens=tok.special_tokens)
    c = plan.new_constraint()
    logits = np.zeros(len(tok), np.float32)

    def allowed(text: str) -> set[str]:
        a = c.adjust(StepState([tok.bos_id], tok.encode(text), logits))
        return {tok.vocab[i] for i in np.flatnonzero(a == 0.0)}

    assert allowed("") == {"R"}
    assert allowed("RO") == {"M", "S"}
    assert allowed("ROS") == {"A", ":"}  # ROS is complete, ROSALINE goes on
    assert allowed("ROS:") == {"\n"}
    first = allowed("ROS:\n")
    assert "\n" not in first and " " not in first and ":" in first and "a" in first
    assert "\n" in allowed("ROS:\nHark!\n")
    assert allowed("ROS:\nHark!\n\n") == {"R"}  # ROS just spoke; ROMEO or ROSALINE next
    assert allowed("ROS:\nHark!\n\nRO") == {"M", "S"}


def test_colon_is_banned_only_on_header_like_lines(tok: CharTokenizer) -> None:
    plan = prepare_scene(tok.vocab, SceneRequest("ROMEO,JULIET"), special_tokens=tok.special_tokens)
    colon = tok.token_id(":")
    logits = np.zeros(len(tok), np.float32)
    logits[colon] = 9.0  # the model wants the colon

    def colon_ok(text: str) -> bool:
        c = plan.new_constraint()
        ok = bool(c.adjust(StepState([tok.bos_id], tok.encode(text), logits))[colon] == 0.0)
        assert c.report()["colon_blocked"] == (0 if ok else 1)
        return ok

    assert not colon_ok("ROMEO:\nJULIET")
    assert not colon_ok("ROMEO:\nHark!\nKING LEAR")
    assert not colon_ok("ROMEO:\nHark!\nII")
    assert colon_ok("ROMEO:\nShe speaks")
    assert colon_ok("ROMEO:\nJULIET, hark")
    assert colon_ok("ROMEO:\n'JULIET")  # cannot read as a header: not opened by a letter


def test_alternation_and_everyone_speaks(tok: CharTokenizer) -> None:
    rng = np.random.default_rng(11)
    names = ("ROMEO", "JULIET", "NURSE", "PARIS")
    for _ in range(5):
        result, _ = decode(tok, SceneRequest(",".join(names), turns=4), rng, bias={"\n": 3.0})
        speakers = [t.speaker for t in result.turns]
        assert sorted(speakers) == sorted(names)  # four turns: each speaks once
        result, _ = decode(tok, SceneRequest(",".join(names), turns=9), rng, bias={"\n": 3.0})
        speakers = [t.speaker for t in result.turns]
        assert set(speakers) == set(names)
        assert all(a != b for a, b in zip(speakers, speakers[1:], strict=False))
    result, _ = decode(tok, SceneRequest("BRUTUS", turns=3), rng, bias={"\n": 3.0})
    assert [t.speaker for t in result.turns] == ["BRUTUS"] * 3
    result, _ = decode(tok, SceneRequest("ROMEO,JULIET", turns=6, alternate=False,
                                         everyone_speaks=False), rng, bias={"\n": 3.0, "R": 3.0})
    assert len(result.turns) == 6 and result.well_formed


def test_stage_directions_between_turns_when_asked(tok: CharTokenizer) -> None:
    rng = np.random.default_rng(5)
    bracketed = CharTokenizer.build([PLAY.read_text(encoding="utf-8") + "[Enter]"])
    seen = {"bracket": 0, "word": 0}
    for i in range(30):
        t = bracketed if i % 2 else tok  # the fixture play has no brackets: words only
        request = SceneRequest("ROMEO,JULIET", turns=3, stage_directions=True)
        result, _ = decode(t, request, rng, bias={"[": 5.0, "E": 5.0, "\n": 3.0})
        check_scene(result, request)
        for block in result.turns:
            if block.speaker is None:
                assert "\n" not in block.text and ":" not in block.text
                if block.text.startswith("["):
                    assert block.text.endswith("]")
                    seen["bracket"] += 1
                else:
                    assert block.text.split()[0] in ("Enter", "Exit", "Exeunt",
                                                                   "Re-enter"), block.text
                    seen["word"] += 1
        blocks = result.turns
        assert all(not (a.speaker is None and b.speaker is None) for a, b in zip(blocks, blocks[1:], strict=False))
    assert seen["bracket"] > 0 and seen["word"] > 0
    # off: brackets are banned even in a vocabulary that has them and logits that want them
    for _ in range(5):
        request = SceneRequest("ROMEO,JULIET", turns=3)
        result, _ = decode(bracketed, request, rng, bias={"[": 9.0, "]": 9.0, "E": 5.0})
        check_scene(result, request)


def test_two_hundred_turns_fit_the_token_budget(tok: CharTokenizer) -> None:
    rng = np.random.default_rng(9)
    request = SceneRequest("ROMEO,JULIET", turns=200)
    result, generated = decode(tok, request, rng, bias={"\n": -30.0})  # never ends by itself
    check_scene(result, request)
    assert len(generated) <= 4096 - 1  # room left for <eos>
    assert result.report["budget_cuts"] > 0
    small, generated = decode(tok, SceneRequest("ROMEO,JULIET", turns=6), rng,
                              bias={"\n": -30.0}, max_new_tokens=300)
    check_scene(small, SceneRequest("ROMEO,JULIET", turns=6))
    assert len(generated) < 300


def test_reused_constraint_restarts_and_off_grammar_tokens_are_counted(tok: CharTokenizer) -> None:
    plan = prepare_scene(tok.vocab, SceneRequest("ROMEO,JULIET", turns=1),
                         special_tokens=tok.special_tokens)
    c = plan.new_constraint()
    logits = np.zeros(len(tok), np.float32)
    banned = tok.encode("X")[0]  # <unk>: never allowed
    assert c.adjust(StepState([], [banned], logits))[tok.token_id("R")] == 0.0
    assert c.report()["off_grammar_tokens"] == 1
    ids = tok.encode("ROMEO:\nHark!\n\n")
    assert c.finished(StepState([], ids, logits))
    assert c.adjust(StepState([], ids, logits))[tok.eos_id] == 0.0
    assert not c.finished(StepState([], ids[:3], logits))  # a new request: state restarts
    assert c.report()["turns"] == 0 and c.report()["off_grammar_tokens"] == 0


def test_constraint_vectors_are_shared_and_read_only(tok: CharTokenizer) -> None:
    plan = prepare_scene(tok.vocab, SceneRequest("ROMEO,JULIET"), special_tokens=tok.special_tokens)
    a, b = plan.new_constraint(), plan.new_constraint()
    s = StepState([], tok.encode("ROMEO:\nHark"), np.zeros(len(tok), np.float32))
    va, vb = a.adjust(s), b.adjust(s)
    assert va is vb and not va.flags.writeable
    assert prepare_scene(tok.vocab, SceneRequest("NURSE"),
                         special_tokens=tok.special_tokens).sv is plan.sv  # cached per vocab



def test_long_lines_break_where_the_model_wants_a_space(tok: CharTokenizer) -> None:
    rng = np.random.default_rng(13)
    request = SceneRequest("ROMEO,JULIET", turns=3, max_turn_chars=400)
    result, _ = decode(tok, request, rng, bias={"\n": -30.0, " ": 3.0})
    check_scene(result, request)
    lines = [line for t in result.turns for line in t.text.split("\n")]
    assert result.report["wrapped_lines"] > 0
    assert all(len(line) <= MAX_LINE_CHARS for line in lines)
    # past the wrap point the space turned into the line break: lines end on a word
    wrapped = [line for line in lines if len(line) > WRAP_LINE_CHARS]
    assert wrapped and sum(len(line) < MAX_LINE_CHARS for line in wrapped) >= len(wrapped) * 0.9
