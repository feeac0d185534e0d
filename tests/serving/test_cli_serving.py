"""The serving commands through shared_model.cli.main: --json output and exit codes."""

from __future__ import annotations

import json
import shutil

import pytest

from shared_model.cli import main
from shared_model.settings import Settings


def _json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture
def user_model(tiny_model):
    models = Settings.from_env().models_dir
    models.mkdir(parents=True)
    shutil.copy(tiny_model, models / "sonnet.onnx")
    return models / "sonnet.onnx"


def test_generate_json_one_object_per_sample(user_model, capsys):
    code = main(["generate", "sonnet", "--prompt", "Shall", "--seed", "3", "--n", "3",
                 "--max-new", "20", "--json"])
    assert code == 0
    rows = _json_lines(capsys.readouterr().out)
    assert len(rows) == 3
    for i, row in enumerate(rows):
        assert isinstance(row["id"], int) and row["model"] == "sonnet"  # recorded
        assert row["params"]["sampling"]["seed"] == 3 and row["params"]["sample"] == i
        assert row["provider"] == "CPUExecutionProvider" or row["provider"].endswith("Provider")
        assert row["latency_ms"] > 0 and 1 <= row["tokens"] <= 20
    again = main(["generate", str(user_model), "--prompt", "Shall", "--seed", "3",
                  "--max-new", "20", "--json"])
    assert again == 0 and _json_lines(capsys.readouterr().out)[0]["text"] == rows[0]["text"]


def test_generate_stream_prints_text(user_model, capsys):
    assert main(["generate", "sonnet", "--prompt", "So", "--seed", "1", "--max-new", "15",
                 "--stream"]) == 0
    streamed = capsys.readouterr().out
    main(["generate", "sonnet", "--prompt", "So", "--seed", "1", "--max-new", "15", "--json"])
    assert streamed == _json_lines(capsys.readouterr().out)[0]["text"] + "\n"


@pytest.mark.parametrize("args, fragment", [
    (["generate", "nope"], "unknown model 'nope'; available: "),
    (["generate", "sonnet", "--temp", "-1"], "temperature"),
    (["generate", "sonnet", "--temp", "nan"], "temperature"),
    (["generate", "sonnet", "--temp", "6"], "temperature"),
    (["generate", "sonnet", "--top-p", "0"], "top_p"),
    (["generate", "sonnet", "--top-p", "1.5"], "top_p"),
    (["generate", "sonnet", "--top-k", "-2"], "top_k"),
    (["generate", "sonnet", "--max-new", "100000"], "max_new_tokens"),
    (["generate", "sonnet", "--prompt", "x" * 5000], "limit"),
    (["generate", "sonnet", "--stream", "--json"], "--stream"),
    (["eval", "sonnet", "--data", "/nonexistent.txt"], "no data file"),
])
def test_bad_input_is_one_line_and_exit_2(user_model, capsys, args, fragment):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err


def test_unknown_characters_noted(user_model, capsys):
    assert main(["generate", "sonnet", "--prompt", "月", "--seed", "1", "--max-new", "3"]) == 0
    assert "月" in capsys.readouterr().err
    main(["generate", "sonnet", "--prompt", "月", "--seed", "1", "--max-new", "3", "--json"])
    assert _json_lines(capsys.readouterr().out)[0]["unknown_chars"] == ["月"]


def test_models_json_lists_good_and_broken(user_model, capsys):
    (user_model.parent / "junk.onnx").write_bytes(b"not onnx at all")
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in _json_lines(capsys.readouterr().out)}
    assert rows["sonnet"]["source"] == "user" and rows["sonnet"]["broken"] is None
    assert rows["sonnet"]["domain"] == "text" and len(rows["sonnet"]["sha256"]) == 64
    assert rows["junk"]["broken"]
    assert main(["models"]) == 0
    assert "BROKEN" in capsys.readouterr().out


def test_eval_json(user_model, tmp_path, capsys):
    data = tmp_path / "val.txt"
    data.write_text("Shall I compare thee to a summer's day?\n" * 5, encoding="utf-8")
    assert main(["eval", "sonnet", "--data", str(data), "--json"]) == 0
    out = _json_lines(capsys.readouterr().out)[0]
    assert out["tokens"] == len(data.read_text(encoding="utf-8"))
    assert out["perplexity"] == pytest.approx(2.718281828 ** out["nll_per_token"], rel=1e-3)
    assert 0 < out["bits_per_char"] < 8


def test_info_json_hides_password(monkeypatch, capsys):
    monkeypatch.setenv("LSTMGEN_DB_URL", "postgresql+psycopg://bot:s3cret@db:5432/lstmgen")
    assert main(["info", "--json"]) == 0
    out = _json_lines(capsys.readouterr().out)[0]
    assert "s3cret" not in json.dumps(out) and out["db_url"].startswith("postgresql+psycopg://bot:***@db")
    assert out["versions"]["onnxruntime"] and out["versions"]["numpy"]
    assert "CPUExecutionProvider" in out["providers"]["available"]
    assert out["providers"]["used"] in out["providers"]["available"]


def test_eval_of_a_bach_model_scores_music_tokens_not_characters(tiny_bach_model, capsys):
    """A bach model's vocabulary is words (``S:72``): the session must use the domain's
    tokenizer, so a chorale corpus is scored token by token with no ``<unk>``."""
    from pathlib import Path

    from shared_model.domains import get_domain
    from shared_model.serving.session import ModelSession

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "bach" / "tiny_jsb16th.json"
    session = ModelSession(tiny_bach_model)
    assert type(session.tokenizer).__name__ == "MusicTokenizer"
    val = get_domain("bach").load_corpus(fixture).val
    ids = session.tokenizer.encode(val[0].text)
    assert session.tokenizer.unk_id not in ids and len(ids) == len(val[0].text.split())
    assert main(["eval", str(tiny_bach_model), "--data", str(fixture), "--json"]) == 0
    out = _json_lines(capsys.readouterr().out)[0]
    # tokens + <eos> per validation chorale (the mode control is given, not predicted)
    assert out["tokens"] == sum(len(d.text.split()) + 1 for d in val)
    assert out["nll_per_token"] < 2.0  # the tiny model learned the fixture's progressions


def test_tokenizer_for_keeps_char_vocabularies_as_characters():
    from shared_model.domains import tokenizer_for

    specials = {"pad": "<pad>", "unk": "<unk>", "bos": "<bos>", "eos": "<eos>"}
    vocab = list(specials.values())
    tok = tokenizer_for("shakespeare", [*vocab, "a", "b", " "], specials)
    assert type(tok).__name__ == "CharTokenizer" and tok.encode("ab") == [4, 5]
    words = tokenizer_for("no-such-domain", [*vocab, "ab", "c"], specials)
    assert type(words).__name__ == "CharTokenizer"  # unknown domain: nothing better to use
