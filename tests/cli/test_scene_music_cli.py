"""``lstmgen scene`` and ``lstmgen music bach`` end to end on tiny real models."""

from __future__ import annotations

import json
import shutil

import pytest

from shared_model.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def scene_model(models_dir, tiny_scene_model):
    shutil.copy(tiny_scene_model, models_dir / "shakespeare.onnx")


@pytest.fixture
def bach_model(models_dir, tiny_bach_model):
    shutil.copy(tiny_bach_model, models_dir / "bach.onnx")


def test_scene_json_has_turns_of_the_given_speakers(scene_model, capsys):
    code, out, err = run(capsys, "scene", "--characters", "ROMEO,HAMLET", "--turns", "3",
                         "--first-line", "But soft, fair maid.", "--seed", "2", "--json")
    assert code == 0, err
    rec = json.loads(out)
    turns = rec["output"]["turns"]
    assert [t["speaker"] for t in turns] == ["ROMEO", "HAMLET", "ROMEO"]
    assert turns[0]["text"].startswith("But soft, fair maid.")
    assert rec["output"]["well_formed"] and rec["id"]


@pytest.mark.parametrize("args,needle", [
    (["--characters", ""], "character"),
    (["--characters", "ROMÉO"], "É"),
    (["--turns", "0"], "turns"),
    (["--turns", "10000"], "turns"),
])
def test_scene_bad_input(scene_model, capsys, args, needle):
    code, _, err = run(capsys, "scene", *args)
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err


def test_music_writes_midi_and_wav(bach_model, capsys, tmp_path):
    pytest.importorskip("music21")
    mid, wav, png = tmp_path / "c.mid", tmp_path / "c.wav", tmp_path / "c.png"
    code, out, err = run(capsys, "music", "bach", "--bars", "2", "--seed", "3", "-o", str(mid),
                         "--wav", str(wav), "--png", str(png), "--key", "G", "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert rec["output"]["bars"] == 2 and rec["output"]["key"] == "G"
    assert mid.read_bytes()[:4] == b"MThd" and wav.read_bytes()[:4] == b"RIFF"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import music21

    score = music21.converter.parse(str(mid))
    assert len(score.parts) == 4
    assert "no parallel fifths or octaves" in rec["constraints"]["rules"]


def test_music_allow_parallels_drops_the_rule(bach_model, capsys, tmp_path):
    code, out, err = run(capsys, "music", "bach", "--bars", "1", "--seed", "3", "--allow-parallels",
                         "-o", str(tmp_path / "c.mid"), "--json")
    assert code == 0, err
    assert "no parallel fifths or octaves" not in json.loads(out)["constraints"]["rules"]


@pytest.mark.parametrize("args,needle", [
    (["--bars", "0"], "bars"), (["--bars", "10000"], "bars"), (["--key", "H#"], "key"),
    (["-o", "/nonexistent-dir/x.mid"], "directory"),
])
def test_music_bad_input_writes_nothing(bach_model, capsys, tmp_path, monkeypatch, args, needle):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _, err = run(capsys, "music", "bach", *args)
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err.lower()
    assert list(work.iterdir()) == []
