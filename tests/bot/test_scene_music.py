"""/scene and /music end to end: real shakespeare and bach models (root conftest), the real
CommandTree and discord.py objects, a real SQLite store; only Discord's HTTP is replaced.
Also the same commands through the offline console (``lstmgen bot --console``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from bot_support import command_payload, custom_ids, invoke, message_of

from shared_model import Settings, Store

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.usefixtures("no_errors_logged")


@pytest.fixture
def store(domain_models):
    s = Store.from_settings(Settings.from_env())
    yield s
    s.close()


def speakers(scene: str) -> list[str]:
    """The speaker of each turn: turns are blocks separated by blank lines, opened by NAME:."""
    blocks = [b for b in re.split(r"\n\s*\n", scene.strip()) if b.strip()]
    return [b.splitlines()[0].rstrip(":") for b in blocks if b.splitlines()[0].endswith(":")]


def scene_of(content: str) -> str:
    m = re.search(r"```\n(.*)\n```", content, re.S)
    assert m, content
    return m.group(1)


async def test_scene_is_a_code_block_of_only_the_given_speakers(domain_bot, store):
    b, session = domain_bot
    calls = await invoke(b, session, command_payload(
        "scene", characters="ROMEO, JULIET", turns=3, first_line="But soft, fair maid.", seed=2))
    assert [c.kind for c in calls] == ["defer", "followup"]
    assert not any(c.ephemeral for c in calls)
    content = calls[1].json["content"]
    assert len(content) <= 2000 and calls[1].files == {}
    gen_id = int(re.match(r"\*\*Scene\*\* · #(\d+) · shakespeare · seed 2 · ", content).group(1))
    scene = scene_of(content)
    assert speakers(scene) == ["ROMEO", "JULIET", "ROMEO"]
    assert scene.startswith("ROMEO:\nBut soft, fair maid.")
    message = message_of(session, calls[1])
    assert custom_ids(message) == [f"lstmgen:rate:{gen_id}:overall:{s}" for s in range(1, 6)] + \
        [f"lstmgen:dim:{gen_id}", f"lstmgen:again:{gen_id}"]
    [view] = store.history(limit=5)
    assert (view.id, view.source, view.domain, view.model_name) == \
        (gen_id, "discord", "shakespeare", "shakespeare")
    assert view.output_text.strip() == scene.strip()
    assert view.params["request"]["characters"] == ["ROMEO", "JULIET"]


async def test_scene_with_a_letter_the_model_never_saw_is_refused_privately(domain_bot, store):
    b, session = domain_bot
    calls = await invoke(b, session, command_payload("scene", characters="KING, GHOST"))
    # known only once the model's vocabulary is read: the placeholder goes, a private note comes
    assert [c.kind for c in calls] == ["defer", "delete", "followup"] and calls[-1].ephemeral
    assert "the character 'K' is not in this model's vocabulary" in calls[-1].json["content"]
    assert store.history() == []


async def test_music_attaches_the_midi_and_embeds_the_piano_roll(domain_bot, store):
    b, session = domain_bot
    calls = await invoke(b, session, command_payload("music", bars=2, key="G", tempo=96, seed=3))
    assert [c.kind for c in calls] == ["defer", "followup"]
    follow = calls[1]
    [embed] = follow.json["embeds"]
    gen_id = int(embed["footer"]["text"].split()[0].lstrip("#"))
    assert embed["title"] == "Chorale" and embed["description"] == "key G, bars 2, tempo 96"
    assert embed["image"]["url"] == f"attachment://pianoroll-{gen_id}.png"
    assert sorted(follow.files) == [f"chorale-{gen_id}.mid", f"pianoroll-{gen_id}.png"]
    midi = follow.files[f"chorale-{gen_id}.mid"]
    assert midi[:4] == b"MThd" and follow.files[f"pianoroll-{gen_id}.png"][:8] == PNG_MAGIC
    assert custom_ids(message_of(session, follow))[-1] == f"lstmgen:again:{gen_id}"
    [view] = store.history(limit=5)
    assert (view.id, view.source, view.domain) == (gen_id, "discord", "bach")
    assert view.output_data == midi  # the stored MIDI is the file the user got
    music21 = pytest.importorskip("music21")
    score = music21.converter.parseData(midi, format="midi")
    assert len(score.parts) == 4


def _lstmgen() -> list[str]:
    exe = shutil.which("lstmgen")
    return [exe] if exe else [sys.executable, "-c", "from shared_model.cli import main; main()"]


def test_console_scene_music_again_and_prefer(domain_models):
    script = "\n".join([
        "/scene characters:ROMEO,JULIET turns:2 seed:4",
        "/music bach bars:2 seed:5",
        "again 1",
        "prefer 1 3 a",
        "again 2",
        "prefer 2 4 tie",
        "again 99",
        "quit",
    ]) + "\n"
    out = subprocess.run([*_lstmgen(), "bot", "--console"], input=script, capture_output=True,
                         text=True, timeout=180, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Traceback" not in out.stderr
    first = re.search(r"\*\*Scene\*\* · #1 · shakespeare · seed 4 · \d+ ms\n```\n(.*?)\n```",
                      text, re.S)
    assert first and speakers(first.group(1)) == ["ROMEO", "JULIET"]
    assert "rate it: rate 1 SCORE [dimension]\nanother one: again 1" in text
    assert re.search(r"== Chorale ==\nkey C, bars 2, tempo 80\n#2 · bach · seed 5 · \d+ ms\n"
                     r"\(attachment: chorale-2\.mid, \d+ bytes\)\n"
                     r"\(attachment: pianoroll-2\.png, \d+ bytes\)", text)
    assert "== Which scene is better? ==" in text and "[A · #1]" in text and "[B · #3]" in text
    assert "which is better? prefer 1 3 a|b|tie" in text
    assert "Recorded your preference: #1." in text
    assert "== Which chorale is better? ==" in text
    assert re.search(r"\(attachment: chorale-a-2\.mid, \d+ bytes\)\n"
                     r"\(attachment: chorale-b-4\.mid, \d+ bytes\)\n"
                     r"\(attachment: pianoroll-b-4\.png, \d+ bytes\)", text)
    assert "Recorded your preference: a tie." in text
    assert "no longer exists" in text
    with Store.from_settings(Settings.from_env()) as store:
        views = {v.id: v for v in store.history(limit=10)}
        assert sorted(views) == [1, 2, 3, 4]
        assert {v.source for v in views.values()} == {"console"}
        assert views[3].params["request"] == views[1].params["request"]
        assert views[4].params["request"] == views[2].params["request"]
        assert views[4].output_data[:4] == b"MThd"
        rows = sorted((r.generation_a_id, r.generation_b_id, r.winner)
                      for r in store.comparison_rows())
        assert rows == [(1, 3, "a"), (2, 4, "tie")]
