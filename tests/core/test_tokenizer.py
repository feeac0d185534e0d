"""CharTokenizer: deterministic ids, specials, unknown handling, round trips."""

from __future__ import annotations

import pytest

from shared_model.errors import InvalidRequest
from shared_model.tokenizer import BOS, EOS, PAD, UNK, CharTokenizer


def test_ids_do_not_depend_on_text_order():
    a = CharTokenizer.build(["hello", "world"])
    b = CharTokenizer.build(["world", "hello"])
    assert a.vocab == b.vocab
    assert a.encode("low") == b.encode("low")


def test_specials_come_first_then_controls():
    tok = CharTokenizer.build(["ab"], control_tokens=["<7j>"])
    assert tok.vocab[:5] == [PAD, UNK, BOS, EOS, "<7j>"]
    assert tok.token_id("<7j>") == 4
    assert tok.special_tokens["7j"] == "<7j>"


def test_round_trip_and_unknown_report():
    tok = CharTokenizer.build(["床前明月光"])
    res = tok.encode_report("明月X光Y")
    assert res.unknown == ["X", "Y"]
    assert res.ids[2] == tok.unk_id
    assert tok.decode(tok.encode("明月光")) == "明月光"


def test_text_cannot_spoof_special_tokens():
    tok = CharTokenizer.build(["<eos>"])
    # '<', 'e', ... are characters; the whole token is never produced from text
    assert tok.eos_id not in tok.encode("<eos>")


def test_min_freq_and_max_size():
    tok = CharTokenizer.build(["aaab"], min_freq=2)
    assert tok.has("a") and not tok.has("b")
    tok = CharTokenizer.build(["aaabbc"], max_size=6)
    assert len(tok) == 6 and tok.has("a") and tok.has("b") and not tok.has("c")


@pytest.mark.parametrize("vocab", [["a", "a"], ["a", "b"]])
def test_bad_vocab_rejected(vocab):
    with pytest.raises(InvalidRequest):
        CharTokenizer(vocab)


def test_decode_drops_specials_unless_asked():
    tok = CharTokenizer.build(["ab"])
    ids = [tok.bos_id, tok.token_id("a"), tok.eos_id]
    assert tok.decode(ids) == "a"
    assert tok.decode(ids, keep_special=True) == "<bos>a<eos>"
