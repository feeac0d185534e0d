"""The offline console end to end: ``lstmgen bot --console`` in a subprocess, through stdin
and through a real pseudo-terminal; same handlers, recorded with source ``console``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from shared_model import Settings, Store


def _lstmgen() -> list[str]:
    exe = shutil.which("lstmgen")
    return [exe] if exe else [sys.executable, "-c", "from shared_model.cli import main; main()"]


def test_console_over_stdin_writes_rates_and_records(models_dir):
    script = "\n".join([
        "/poem tang form:7j acrostic:春山月风 seed:5",
        "rate 1 4",
        "rate 1 5 fluency",
        "rate 1 2",
        "/poem tang acrostic:夏夏夏夏",
        "/poem tang temperature:9",
        "rate 99 3",
        "/history",
        "/frobnicate",
        "quit",
    ]) + "\n"
    out = subprocess.run([*_lstmgen(), "bot", "--console"], input=script, capture_output=True,
                         text=True, timeout=120, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "== 七言绝句 · 藏头 春山月风 ==" in text
    poem = re.search(r"== 七言绝句 · 藏头 春山月风 ==\n(.+)\n(.+)\n", text)
    assert poem is not None
    lines = [x for x in re.split(r"[，。]", poem.group(1) + poem.group(2)) if x]
    assert [x[0] for x in lines] == list("春山月风")
    assert "rate it: rate 1 SCORE [dimension]" in text
    assert "overall rating of #1 is recorded: 4/5" in text
    assert "fluency rating of #1 is recorded: 5/5" in text
    assert "updated from 4 to 2" in text
    assert "not in this model's vocabulary" in text
    assert "temperature must be between 0.1 and 2.0" in text
    assert "no longer exists" in text
    assert "#1 tang" in text
    assert "unknown command 'frobnicate'" in text
    assert "Traceback" not in out.stderr
    with Store.from_settings(Settings.from_env()) as store:
        [view] = store.history()
        assert view.source == "console"
        assert sorted((r.dimension, r.score) for r in store.rating_rows()) == \
            [("fluency", 5), ("overall", 2)]


def test_console_through_a_pseudo_terminal(models_dir):
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(_lstmgen()[0], ["bot", "--console"], env=os.environ.copy(),
                          encoding="utf-8", timeout=60)
    try:
        child.expect("type 'help' for commands")
        child.expect_exact("lstmgen> ")
        child.sendline("/poem tang form:5j seed:3 layout:vertical")
        child.expect("== 五言绝句 ==")
        child.expect(r"rate it: rate (\d+) SCORE")
        gen_id = child.match.group(1)
        child.expect_exact("lstmgen> ")
        child.sendline(f"rate {gen_id} 5 creativity")
        child.expect("creativity rating of #1 is recorded: 5/5")
        child.expect_exact("lstmgen> ")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
