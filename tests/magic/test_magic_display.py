"""The magic's parts on their own: prompt expansion, request building, the per-domain HTML
(scene as a script, chorale as piano roll + audio + MIDI), live streaming display updates
and the ipywidgets rating controls clicked against a real Studio and SQLite store."""

from __future__ import annotations

import argparse
import base64
import re
import shutil

import pytest
from IPython.utils.capture import capture_output

from lstm_magic.args import DIMENSIONS, WINNERS, MagicDefaults, build_request, expand_prompt
from lstm_magic.display import StreamView, card_html, card_text, make_result
from shared_model import GenerateRequest, Generation, InvalidRequest, SamplingConfig, Studio


def _generation(domain: str, text: str, **kw) -> Generation:
    fields = {"id": 7, "model": domain, "model_sha256": "0" * 64, "domain": domain,
              "prompt": "", "text": text, "formatted": text,
              "params": {"sampling": {"temperature": 0.8}}, "latency_ms": 12.0,
              "provider": "CPUExecutionProvider", "finish_reason": "eos", "tokens": 10,
              "seed": 1}
    fields.update(kw)
    return Generation(**fields)


# -- args --------------------------------------------------------------------------------

def test_expand_prompt():
    ns = {"a": "春", "obj": argparse.Namespace(word="风")}
    assert expand_prompt("{a}{obj.word} {{a}}", ns) == "春风 {a}"
    assert expand_prompt("no fields } {", ns) == "no fields } {"
    with pytest.raises(InvalidRequest, match="no variable named 'b'"):
        expand_prompt("{b}", ns)
    with pytest.raises(InvalidRequest, match="has no attribute 'nope'"):
        expand_prompt("{obj.nope}", ns)


def test_constants_match_the_store():
    from shared_model.storage.models import DIMENSIONS as STORED
    from shared_model.storage.models import WINNERS as STORED_WINNERS

    assert DIMENSIONS == STORED and WINNERS == STORED_WINNERS


def _opts(**kw) -> argparse.Namespace:
    base = dict(model=None, temp=None, top_k=None, top_p=None, max_len=None, n=1, seed=None,
                form=None, acrostic=None, keyword=None, characters=None, turns=None, bars=None,
                stream=False, no_save=False, out=None)
    base.update(kw)
    return argparse.Namespace(**base)


class _Info:
    def __init__(self, name, domain, meta=None):
        self.name, self.domain, self.meta = name, domain, meta


def test_build_request_per_domain():
    from shared_model import ChoraleRequest, PoemRequest
    from shared_model.domains.shakespeare import SceneRequest

    d = MagicDefaults()
    poem = build_request(_opts(form="7l", keyword="月, 风", seed=3), "明月", _Info("tang", "tang"), d)
    assert isinstance(poem, GenerateRequest) and poem.model == "tang"
    assert isinstance(poem.domain_request, PoemRequest)
    assert poem.domain_request.form == "7l" and poem.domain_request.keywords == ("月", "风")
    assert poem.domain_request.prompt == "明月" and poem.sampling.temperature == 0.8
    scene = build_request(_opts(model="s", characters="romeo, juliet", turns=3), "Hark!",
                          _Info("s", "shakespeare"), d)
    assert isinstance(scene.domain_request, SceneRequest)
    assert scene.domain_request.characters == ("ROMEO", "JULIET")
    assert scene.domain_request.first_line == "Hark!" and scene.domain_request.turns == 3
    music = build_request(_opts(model="b", bars=4, temp=1.1), "", _Info("b", "bach"), d)
    assert music.domain_request == ChoraleRequest(bars=4) and music.sampling.temperature == 1.1
    text = build_request(_opts(model="x", max_len=9, top_k=5, top_p=0.9), "Hi", _Info("x", "text"), d)
    assert text.domain_request is None and text.prompt == "Hi"
    assert (text.sampling.max_new_tokens, text.sampling.top_k, text.sampling.top_p) == (9, 5, 0.9)
    with pytest.raises(InvalidRequest, match="takes no text prompt"):
        build_request(_opts(model="b"), "la la", _Info("b", "bach"), d)
    with pytest.raises(InvalidRequest, match="needs its speakers"):
        build_request(_opts(model="s"), "", _Info("s", "shakespeare"), d)


# -- display -----------------------------------------------------------------------------

def test_scene_is_set_as_a_script(fixtures_dir):
    text = (fixtures_dir / "shakespeare" / "play.txt").read_text().split("\n\n\n")[0]
    html = card_html(_generation("shakespeare", text))
    speakers = re.findall(r'font-variant:small-caps[^>]*>([^<]+)<', html)
    assert speakers[:3] == ["Romeo", "Juliet", "Romeo"]
    assert "But, soft! what light through yonder window breaks?" in html
    assert "ROMEO:" in card_text(_generation("shakespeare", text))


def _cadence_tokens() -> str:
    from shared_model.domains.bach.encoding import Note, frames_from_notes, frames_to_tokens

    chords = [(72, 67, 64, 48), (72, 69, 65, 53), (71, 67, 62, 55), (72, 67, 64, 48)]
    notes = [Note(v, i * 8, i * 8 + 8, p, fermata=i == 3)
             for i, chord in enumerate(chords) for v, p in enumerate(chord)]
    return " ".join(frames_to_tokens(frames_from_notes(notes)))


def test_chorale_shows_piano_roll_audio_and_midi_download():
    pytest.importorskip("music21")
    g = _generation("bach", _cadence_tokens(),
                    params={"sampling": {}, "request": {"bars": 2, "key": "G", "tempo": 90.0}})
    html = card_html(g)
    png = re.search(r'<img[^>]*src="data:image/png;base64,([^"]+)"', html)
    wav = re.search(r'<audio[^>]*src="data:audio/wav;base64,([^"]+)"', html)
    midi = re.search(r'<a download="lstmgen-7.mid" href="data:audio/midi;base64,([^"]+)"', html)
    assert png and wav and midi
    assert base64.b64decode(png.group(1)).startswith(b"\x89PNG")
    assert base64.b64decode(wav.group(1))[:4] == b"RIFF"
    assert base64.b64decode(midi.group(1))[:4] == b"MThd"


def test_broken_chorale_text_is_shown_not_raised():
    html = card_html(_generation("bach", "not music"))
    assert "cannot render this chorale" in html and "not music" in html


@pytest.fixture
def studio(models_dir, tiny_model):
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()  # display() publishes through the shell
    shutil.copy(tiny_model, models_dir / "sonnet.onnx")
    s = Studio()
    yield s
    s.close()


def test_live_stream_updates_one_display(studio):
    request = GenerateRequest("sonnet", prompt="Shall ", n=2,
                              sampling=SamplingConfig(seed=2, max_new_tokens=60))
    with capture_output() as cap:
        view = StreamView(2, live=True)
        gens = studio.stream(request, view.add, source="notebook")
        view.finish(gens)
    first, *updates = cap.outputs
    display_id = first.transient["display_id"]
    assert not first.update and updates and all(o.update for o in updates)
    assert {o.transient["display_id"] for o in updates} == {display_id}
    assert len(updates) == view.updates
    assert view.texts == [g.text for g in gens]
    assert "streamed 2 sample(s)" in updates[-1].data["text/plain"]
    assert all(g.id is not None for g in gens)


def test_rating_widgets_store_ratings_and_comparisons(studio):
    pytest.importorskip("ipywidgets")
    from lstm_magic.widgets import RatingHook, comparison_controls, rating_controls

    gens = studio.generate(GenerateRequest("sonnet", prompt="So ", n=2,
                                           sampling=SamplingConfig(seed=1, max_new_tokens=20)),
                           source="notebook")
    hook = RatingHook(rate=lambda g, s, d: studio.rate(g, "notebook:tester", s, d),
                      compare=lambda a, b, w: studio.compare(a, b, "notebook:tester", w))
    a, b = gens[0].id, gens[1].id
    row = rating_controls(a, hook)
    dimension = row.children[1]
    buttons = {c.description: c for c in row.children if hasattr(c, "on_click")}
    dimension.value = "form"
    buttons["4"].click()
    buttons["2"].click()  # a re-rate updates
    assert "rated 2/5 for form (was 4)" in row.children[-1].value
    assert studio.get(a).rating("form").mean == 2.0
    pair = comparison_controls(a, b, hook)
    pair.children[2].click()  # "#b better"
    assert "recorded: b" in pair.children[-1].value
    assert studio.stats()["bradley_terry"]["comparisons"] == 0  # same weights: no model pair
    assert len(studio.store.comparison_rows()) == 1

    result = make_result(gens, hook)
    with capture_output() as cap:
        result._ipython_display_()
    kinds = [set(o.data) for o in cap.outputs]
    assert kinds[0] == {"text/plain", "text/html"}
    widget_views = [k for k in kinds if "application/vnd.jupyter.widget-view+json" in k]
    assert len(widget_views) == 3  # a rating row per sample and the comparison row


def test_widget_errors_are_shown_in_the_control(studio):
    pytest.importorskip("ipywidgets")
    from lstm_magic.widgets import RatingHook, rating_controls

    hook = RatingHook(rate=lambda g, s, d: studio.rate(g, "r", s, d),
                      compare=lambda a, b, w: studio.compare(a, b, "r", w))
    row = rating_controls(999, hook)  # no such generation
    next(c for c in row.children if getattr(c, "description", "") == "5").click()
    assert "999" in row.children[-1].value and "color:#a00" in row.children[-1].value
