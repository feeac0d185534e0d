"""Tang decoding constraints driven by a real CharTokenizer vocabulary and random logits.

Each test runs the loop a decoder runs (logits + adjust, argmax, until finished) and then
checks the poem independently: the form by its text, rhyme and tone with pypinyin or the
raw 平水韵 file, not with the tables the constraint used.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pypinyin import Style, pinyin

from shared_model.domains.tang import DOMAIN, PoemRequest, prepare_poem
from shared_model.domains.tang.forms import FORMS, form_of_text
from shared_model.domains.tang.keywords import KeywordConfig
from shared_model.domains.tang.phonology import modern_phonology, xinyun_reading
from shared_model.errors import InvalidRequest
from shared_model.serving.constraints import StepState
from shared_model.tokenizer import CharTokenizer

SAMPLE = Path(__file__).parents[1] / "fixtures" / "tang" / "tangshi_sample.jsonl"
PINGSHUI = Path(__file__).parents[2] / "shared_model" / "domains" / "tang" / "pingshui.json"


@pytest.fixture(scope="module")
def corpus():
    return DOMAIN.load_corpus(SAMPLE)


@pytest.fixture(scope="module")
def tok(corpus) -> CharTokenizer:
    return CharTokenizer.build([d.text for d in corpus.train + corpus.val],
                               control_tokens=corpus.control_tokens)


@pytest.fixture(scope="module")
def extra(corpus, tok) -> dict:
    return DOMAIN.metadata_extra(corpus, tok.vocab, KeywordConfig(min_pair_count=2, min_char_count=2))


def decode(plan, seed: int, *, scale: float = 3.0, logits_fn=None) -> list[int]:
    """The decoder's loop: raw logits + adjust, argmax, until the constraint says done."""
    rng = np.random.default_rng(seed)
    V = len(plan.tv.vocab)
    generated: list[int] = []
    for _ in range(plan.max_new_tokens + 3):
        logits = rng.standard_normal(V).astype(np.float32) * scale
        if logits_fn is not None:
            logits = logits_fn(logits, generated)
        state = StepState(plan.prompt_ids, generated, logits)
        if plan.constraint.finished(state):
            break
        adjust = plan.constraint.adjust(state)
        generated.append(int(np.argmax(logits + adjust)))
    return generated


def write(tok, request: PoemRequest, seed: int, extra=None, **kw):
    plan = prepare_poem(tok.vocab, request, extra=extra)
    return plan.result(decode(plan, seed, **kw))


def reading(ch: str) -> tuple[str | None, str | None]:
    """中华新韵 group and tone of ``ch``, straight from pypinyin."""
    default = pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True)[0][0]
    if default.endswith("5"):
        others = pinyin(ch, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)[0]
        default = next((r for r in others if not r.endswith("5")), default)
    return xinyun_reading(default)


@pytest.mark.parametrize("form", list(FORMS))
def test_every_poem_has_the_exact_form(tok, form: str) -> None:
    for seed in range(25):
        result = write(tok, PoemRequest(form=form), seed)
        assert form_of_text(result.text) == FORMS[form], result.text
        assert result.report["held"]["form"] is True
        assert len(result.lines) == FORMS[form].line_count
    for seed in range(10):  # the bare form, every other rule off
        bare = PoemRequest(form=form, rhyme="none", no_repeat=False)
        assert form_of_text(write(tok, bare, seed).text) == FORMS[form]


def test_adjust_vectors_and_finish(tok) -> None:
    plan = prepare_poem(tok.vocab, PoemRequest(form="5j"))
    V = len(tok)
    generated: list[int] = []
    rng = np.random.default_rng(0)
    for i in range(24):
        state = StepState([], generated, rng.standard_normal(V).astype(np.float32))
        assert not plan.constraint.finished(state)
        adjust = plan.constraint.adjust(state)
        assert adjust.dtype == np.float32 and adjust.shape == (V,)
        allowed = np.flatnonzero(np.isfinite(adjust))
        if i % 6 == 5:
            assert list(allowed) == [tok.token_id("，" if i // 6 % 2 == 0 else "。")]
        else:
            assert len(allowed) > 20 and all(len(tok.vocab[t]) == 1 for t in allowed)
        generated.append(int(np.argmax(state.logits + adjust)))
    state = StepState([], generated, np.zeros(V, dtype=np.float32))
    assert plan.constraint.finished(state)
    assert list(np.flatnonzero(np.isfinite(plan.constraint.adjust(state)))) == [tok.eos_id]
    json.dumps(plan.constraint.report(), ensure_ascii=False)


def test_acrostic_is_always_right(tok) -> None:
    for seed in range(20):
        result = write(tok, PoemRequest(acrostic="江山如画", form="7j"), seed)
        assert [line[0] for line in result.lines] == list("江山如画")
        assert result.report["held"]["acrostic"] is True
    result = write(tok, PoemRequest(acrostic="明月清风白云青山"), 1)
    assert result.form == "5l" and "".join(line[0] for line in result.lines) == "明月清风白云青山"
    # Traditional input is converted to the model's script.
    result = write(tok, PoemRequest(acrostic="花好月圓"), 2)
    assert "".join(line[0] for line in result.lines) == "花好月圆"


def test_rhyme_xinyun_holds(tok) -> None:
    for seed in range(30):
        first = seed % 2 == 1
        form = "7l" if seed % 3 else "5j"
        result = write(tok, PoemRequest(form=form, rhyme_first_line=first), seed)
        assert not [r for r in result.report["relaxed"] if r["rule"] == "rhyme"]
        ends = [line[-1] for i, line in enumerate(result.lines) if i % 2 == 1 or (first and i == 0)]
        readings = {reading(ch) for ch in ends}
        assert len({group for group, _ in readings}) == 1, (ends, readings)
        assert {tone for _, tone in readings} == {"ping"}
        assert result.report["held"]["rhyme"] is True


def test_rhyme_pingshui_holds_on_a_traditional_model() -> None:
    corpus = DOMAIN.load_corpus(SAMPLE, script="traditional")
    tok = CharTokenizer.build([d.text for d in corpus.train + corpus.val],
                              control_tokens=corpus.control_tokens)
    raw = json.loads(PINGSHUI.read_text("utf-8"))
    level_groups = ["".join(chars) for part in raw["ping"].values() for chars in part.values()]
    for seed in range(20):
        plan = prepare_poem(tok.vocab, PoemRequest(form="5l", rhyme="pingshui"),
                            extra={"script": "traditional"})
        result = plan.result(decode(plan, seed))
        ends = [line[-1] for line in result.lines[1::2]]
        assert any(all(ch in group for ch in ends) for group in level_groups), ends


def _tone(ch: str) -> str | None:
    return reading(ch)[1]


def test_tonal_pattern_holds_at_2nd_4th_6th_and_line_ends(tok) -> None:
    held = 0
    for seed in range(30):
        form = FORMS["7l" if seed % 2 else "5l"]
        result = write(tok, PoemRequest(form=form.code, tonal=True), seed)
        if any(r["rule"] == "tone" for r in result.report["relaxed"]):
            continue
        held += 1
        lines = result.lines
        cols = [1, 3, 5][: (form.line_length - 1) // 2]
        key = _tone(lines[0][1])
        for i, line in enumerate(lines):
            flip = (0, 1, 1, 0, 0, 1, 1, 0)[i]
            for c in cols:
                want = key if ((c == 3) ^ flip) == 0 else ("ze" if key == "ping" else "ping")
                assert _tone(line[c]) == want, (i, c, line)
            assert _tone(line[-1]) == ("ping" if i % 2 else "ze"), line
        assert result.report["held"]["tone"] is True
    assert held >= 25  # relaxations are rare even on a 1,100-character vocabulary


def test_prompt_opens_the_poem(tok) -> None:
    plan = prepare_poem(tok.vocab, PoemRequest(prompt="白日依山", form="5j"))
    assert plan.prefix_ids[:2] == [tok.bos_id, tok.token_id("<5j>")]
    assert plan.prefix_ids[2:] == plan.prompt_ids == tok.encode("白日依山")
    assert plan.max_new_tokens == 24 - 4 + 1
    assert plan.controls == ("<5j>",) and plan.prompt_text == "白日依山"
    generated = decode(plan, 3)
    result = plan.result(generated)
    assert result.text.startswith("白日依山") and form_of_text(result.text).code == "5j"
    # The runtime passes <bos> and the control token in StepState.prompt: same poem.
    fresh = plan.new_constraint()
    rng = np.random.default_rng(3)
    ids: list[int] = []
    while True:
        logits = rng.standard_normal(len(tok)).astype(np.float32) * 3.0
        state = StepState(plan.prefix_ids, ids, logits)
        if fresh.finished(state):
            break
        ids.append(int(np.argmax(logits + fresh.adjust(state))))
    assert ids == generated
    assert plan.result(ids, fresh).text == result.text


def test_no_repeat_and_its_margin(tok) -> None:
    for seed in range(10):
        result = write(tok, PoemRequest(form="7l"), seed)
        chars = "".join(result.lines)
        assert len(set(chars)) == len(chars)
        assert result.report["held"]["no_repeat"] is True
    moon = tok.token_id("月")

    def love_moon(logits: np.ndarray, generated: list[int]) -> np.ndarray:
        logits[moon] = 12.0  # the model strongly prefers 月 everywhere
        return logits

    keen = write(tok, PoemRequest(form="5j", rhyme="none", repeat_margin=4.0), 0, logits_fn=love_moon)
    assert "".join(keen.lines).count("月") > 1 and keen.report["repeats"]
    assert keen.report["held"]["no_repeat"] is False
    strict = write(tok, PoemRequest(form="5j", rhyme="none", repeat_margin=20.0), 0, logits_fn=love_moon)
    assert "".join(strict.lines).count("月") == 1 and not strict.report["repeats"]


def _tiny_vocab(chars: str) -> CharTokenizer:
    return CharTokenizer(["<pad>", "<unk>", "<bos>", "<eos>", "<5j>", "，", "。", *chars])


def test_back_off_relaxes_rhyme_then_records_it() -> None:
    # One level-tone character per 中华新韵 group: once line 2 has rhymed, nothing fresh
    # rhymes with it, so line 4 must relax the rhyme (not repeat the character).
    level = "花歌斜来飞高流天春光风西诗书"
    oblique = "月雪水客落去远路夜酒鸟草树寺叶雨日望坐醉"
    tok = _tiny_vocab(level + oblique)
    assert len({reading(ch) for ch in level}) == 14
    assert {reading(ch)[1] for ch in oblique} == {"ze"}
    for seed in range(5):
        result = write(tok, PoemRequest(form="5j", repeat_margin=20.0), seed)
        assert form_of_text(result.text).code == "5j"
        assert {"rule": "rhyme", "line": 4, "position": 5} in result.report["relaxed"]
        assert result.report["held"]["rhyme"] is False
        assert result.report["held"]["no_repeat"] is True


def test_back_off_relaxes_tone_and_then_repeats() -> None:
    tok = _tiny_vocab("花天春光风西诗书歌来飞高流")  # level tones only
    result = write(tok, PoemRequest(form="5j", tonal=True, rhyme="none"), 0)
    assert form_of_text(result.text).code == "5j"
    relaxed = {r["rule"] for r in result.report["relaxed"]}
    assert relaxed == {"tone", "repeat"}  # 13 characters cannot fill 20 places without repeats
    assert result.report["held"]["tone"] is False
    # Line 1's 2nd character (平) fixes 平起, so its 4th wants 仄: the first relaxation.
    assert result.report["relaxed"][0] == {"rule": "tone", "line": 1, "position": 4}
    at: dict[tuple[int, int], list[str]] = {}
    for r in result.report["relaxed"]:
        at.setdefault((r["line"], r["position"]), []).append(r["rule"])
    assert ["tone", "repeat"] in at.values()  # tone goes first where both had to go
    assert all(rules in (["tone"], ["repeat"], ["tone", "repeat"]) for rules in at.values())


def test_keyword_steering_moves_the_poem(tok, extra) -> None:
    plan = prepare_poem(tok.vocab, PoemRequest(form="7j", keywords=("月",), keyword_strength=4.0),
                        extra=extra)
    neighbours = set(plan.keywords_used["月"]) | {"月"}
    assert plan.constraint.rules.bias is not None

    def share(request: PoemRequest) -> float:
        chars = ""
        for seed in range(20):
            chars += "".join(write(tok, request, seed, extra=extra).lines)
        return sum(ch in neighbours for ch in chars) / len(chars)

    steered = share(PoemRequest(form="7j", keywords=("月",), keyword_strength=4.0))
    plain = share(PoemRequest(form="7j"))
    assert steered > plain + 0.1
    result = write(tok, PoemRequest(form="7j", keywords=("月",)), 0, extra=extra)
    assert result.report["keywords"]["月"]


def test_stored_phonology_matches_computed(tok, extra) -> None:
    from shared_model.domains.tang.tables import tang_vocab, vocab_phonology

    tv = tang_vocab(tok.vocab)
    stored = vocab_phonology(tv, "xinyun", extra={"phonology": modern_phonology(tok.vocab)})
    computed = vocab_phonology(tv, "xinyun")
    assert stored.groups == computed.groups
    assert (stored.rhyme == computed.rhyme).all() and (stored.ping == computed.ping).all()


def test_traditional_output_script(tok) -> None:
    result = write(tok, PoemRequest(form="5j", acrostic="花好月圆", script="traditional"), 0)
    assert "".join(line[0] for line in result.lines) == "花好月圓"
    assert result.script == "traditional" and result.to_dict()["poem"].count("\n") == 1


BAD_REQUESTS = [
    (dict(form="6j"), "unknown poem form '6j'"),
    (dict(acrostic="春a秋冬"), "the acrostic must be Chinese characters only; 'a' is not"),
    (dict(acrostic="春夏秋"), "an acrostic has 4 characters"),
    (dict(acrostic="春夏秋冬", form="7l"), "does not fit form 7l"),
    (dict(prompt="床前明月光疑"), "longer than a line"),
    (dict(prompt="床前明月光，"), "the prompt must be Chinese characters only"),
    (dict(prompt="床前", acrostic="春夏秋冬"), "the prompt starts with '床'"),
    (dict(keywords=("moon",)), "a keyword must be Chinese characters only"),
    (dict(rhyme="abab"), "unknown rhyme scheme"),
    (dict(tones="middle"), "unknown tone scheme"),
    (dict(repeat_margin=-1.0), "repeat margin"),
    (dict(keyword_strength=99.0), "keyword strength"),
    (dict(script="latin"), "unknown script"),
]


@pytest.mark.parametrize(("options", "message"), BAD_REQUESTS)
def test_bad_requests_are_clear(options: dict, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message.replace("(", r"\(")) as info:
        PoemRequest(**options)
    assert "\n" not in str(info.value)


def test_vocabulary_checks(tok, extra) -> None:
    with pytest.raises(InvalidRequest, match="acrostic character '鑫' is not in this model's vocabulary"):
        prepare_poem(tok.vocab, PoemRequest(acrostic="鑫夏秋冬"))
    with pytest.raises(InvalidRequest, match="keyword '鑫' is not in this model's vocabulary"):
        prepare_poem(tok.vocab, PoemRequest(keywords=("鑫",)), extra=extra)
    with pytest.raises(InvalidRequest, match="no keyword table"):
        prepare_poem(tok.vocab, PoemRequest(keywords=("月",)))
    with pytest.raises(InvalidRequest, match="prompt character"):
        prepare_poem(tok.vocab, PoemRequest(prompt="鑫"))
    with pytest.raises(InvalidRequest, match="cannot write Tang poems"):
        prepare_poem(["<pad>", "<unk>", "<bos>", "<eos>", "a", "b"], PoemRequest())


def test_check_text_scores_unconstrained_output(tok) -> None:
    poem = "向晚意不适，驱车登古原。夕阳无限好，只是近黄昏。"
    plan = prepare_poem(tok.vocab, PoemRequest(form="5j", acrostic="向驱夕只"))
    verdict = plan.check_text(poem)
    assert verdict["form"] is True and verdict["acrostic"] is True
    # 原 (yuán) and 昏 (hūn) no longer rhyme in Mandarin, but share 平水韵 十三元.
    assert verdict["rhyme"] is False
    pingshui = prepare_poem(tok.vocab, PoemRequest(form="5j", rhyme="pingshui"))
    assert pingshui.check_text(poem)["rhyme"] is True
    assert plan.check_text("向晚意不适，驱车登古原。")["form"] is False
    assert plan.check_text("寥落古行宫，宫花寂寞红。白头宫女在，闲坐说玄宗。")["acrostic"] is False
