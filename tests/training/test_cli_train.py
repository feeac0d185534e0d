"""``lstmgen train`` through the real CLI entry point: --json output, resume, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shared_model.cli import main
from shared_model.training.checkpoint import load_checkpoint

from .corpora import pattern_text

TINY = ["--embed-dim", "8", "--hidden-size", "16", "--layers", "1", "--batch-size", "4",
        "--seq-len", "16", "--eval-interval", "5"]


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(pattern_text(3000), encoding="utf-8")
    return path


def _train(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["train", "--domain", "text", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_json_reports_the_run(capsys, text_file, lstmgen_home):
    code, out, err = _train(capsys, "--data", str(text_file), "--name", "tiny",
                            "--max-steps", "6", "--json", *TINY)
    assert code == 0, err
    (line,) = out.splitlines()
    rec = json.loads(line)
    assert {"checkpoint", "val_loss", "val_ppl", "val_bpc", "steps", "tokens_per_s", "wall_s",
            "params"} <= set(rec)
    assert rec["steps"] == 6 and rec["stopped"] == "max_steps"
    ckpt = Path(rec["checkpoint"])
    assert ckpt == lstmgen_home / "runs" / "tiny" / "best.pt"
    payload = load_checkpoint(ckpt)
    assert payload["domain"] == "text" and payload["name"] == "tiny"
    assert payload["model_config"]["hidden_size"] == 16


def test_resume_continues_and_a_different_config_is_refused(capsys, text_file, tmp_path):
    out_dir = tmp_path / "run"
    args = ["--data", str(text_file), "--out", str(out_dir), "--json", *TINY]
    assert _train(capsys, *args, "--max-steps", "4")[0] == 0
    code, out, _ = _train(capsys, *args, "--max-steps", "8", "--resume", str(out_dir / "last.pt"))
    assert code == 0 and json.loads(out)["steps"] == 8
    code, out, err = _train(capsys, *args, "--hidden-size", "24", "--max-steps", "9",
                            "--resume", str(out_dir / "last.pt"))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "different model config" in err


def _bad_inputs(tmp_path: Path, text_file: Path) -> dict[str, list[str]]:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    one = tmp_path / "one.txt"
    one.write_text("a" * 500)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("café au lait ".encode("latin-1") * 100)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00garbage" * 100)
    ok = ["--data", str(text_file)]
    return {
        "missing": ["--data", str(tmp_path / "nope.txt")],
        "empty": ["--data", str(empty)],
        "one character": ["--data", str(one)],
        "not utf-8": ["--data", str(latin)],
        "minutes zero": [*ok, "--minutes", "0"],
        "minutes negative": [*ok, "--minutes", "-2"],
        "bad size": [*ok, "--hidden-size", "0"],
        "corrupt checkpoint": [*ok, "--resume", str(corrupt)],
        "missing checkpoint": [*ok, "--resume", str(tmp_path / "none.pt")],
        "bad name": [*ok, "--name", "../escape"],
    }


@pytest.mark.parametrize("case", ["missing", "empty", "one character", "not utf-8",
                                  "minutes zero", "minutes negative", "bad size",
                                  "corrupt checkpoint", "missing checkpoint", "bad name"])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, text_file, case):
    args = _bad_inputs(tmp_path, text_file)[case]
    code, out, err = _train(capsys, *TINY, "--max-steps", "2", *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not list(tmp_path.rglob("*.pt.*.tmp"))


def test_train_help_starts_without_torch():
    code = textwrap.dedent("""
        import sys
        class _NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked")
        sys.meta_path.insert(0, _NoTorch())
        from shared_model.cli import main
        rc = main(["train", "--help"])
        assert "torch" not in sys.modules
        sys.exit(rc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "--minutes" in out.stdout and "--resume" in out.stdout


def test_tang_script_option_is_used_and_recorded(tmp_path, capsys):
    import json
    from pathlib import Path

    from shared_model.cli import main
    from shared_model.training.checkpoint import load_checkpoint

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "tang" / "tangshi_sample.jsonl"
    code = main(["train", "--domain", "tang", "--data", str(fixture), "--script", "traditional",
                 "--max-steps", "2", "--eval-interval", "2", "--embed-dim", "8",
                 "--hidden-size", "8", "--layers", "1", "--batch-size", "4",
                 "--out", str(tmp_path / "run"), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    ckpt = load_checkpoint(json.loads(out.splitlines()[-1])["checkpoint"])
    assert ckpt["corpus"]["stats"]["script"] == "traditional"
    assert ckpt["split"]["options"] == {"script": "traditional"}


def test_script_option_on_a_domain_without_it_is_one_line(tmp_path, capsys):
    from shared_model.cli import main

    data = tmp_path / "t.txt"
    data.write_text("hello there, world. " * 50, encoding="utf-8")
    code = main(["train", "--domain", "text", "--data", str(data), "--script", "traditional",
                 "--max-steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "script" in err
