"""``lstmgen poem tang`` through the CLI runner: JSON output, stored rows, bad input."""

from __future__ import annotations

import json
import shutil

import pytest

from shared_model.cli import main


@pytest.fixture
def tang(models_dir, tiny_tang_model):
    shutil.copy(tiny_tang_model, models_dir / "tang.onnx")
    return models_dir / "tang.onnx"


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_poem_json_is_stored_and_rateable(tang, capsys):
    code, out, err = run(capsys, "poem", "tang", "--form", "7j", "--seed", "4", "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert len(rec["output"]["lines"]) == 4 and all(len(x) == 7 for x in rec["output"]["lines"])
    assert rec["id"] and rec["params"]["sampling"]["seed"] == 4
    assert rec["output"]["constraints"]["held"]["form"] is True
    code, out, err = run(capsys, "rate", str(rec["id"]), "5", "--json")
    assert code == 0, err


def test_poem_prints_a_formatted_poem(tang, capsys):
    code, out, err = run(capsys, "poem", "tang", "--form", "5l", "--seed", "1")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 4 and all(line.endswith("。") for line in lines)
    assert "saved as #" in err


def test_n_samples_and_no_save(tang, capsys):
    code, out, _ = run(capsys, "poem", "--n", "3", "--no-save", "--json", "--seed", "2")
    recs = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and len(recs) == 3 and all(r["id"] is None for r in recs)


@pytest.mark.parametrize("args,needle", [
    (["--form", "9x"], "form"),
    (["--acrostic", "ab"], "Chinese"),
    (["--acrostic", "春夏秋", "--form", "5j"], "acrostic"),
    (["--temp", "-1"], "temperature"),
    (["--prompt", "一二三四五六七八"], "prompt"),
    (["--model", "nosuch"], "unknown model"),
])
def test_bad_input_is_one_line_exit_2(tang, capsys, args, needle):
    code, out, err = run(capsys, "poem", "tang", *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err
