"""examples/quickstart.ipynb executed end to end by nbclient in a real Jupyter kernel, with
real tiny models in LSTMGEN_MODELS: no error output, rich outputs where they belong, and
the generations and ratings in the store with source ``notebook``."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"


def _seconds(cell) -> float:
    t = cell.metadata["execution"]
    start = datetime.fromisoformat(t["iopub.execute_input"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(t["shell.execute_reply"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


@pytest.mark.slow
def test_quickstart_runs_in_a_real_kernel(models_dir, tiny_tang_model, tiny_scene_model,
                                          tiny_bach_model, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    shutil.copy(tiny_tang_model, models_dir / "tang.onnx")
    shutil.copy(tiny_scene_model, models_dir / "shakespeare.onnx")
    shutil.copy(tiny_bach_model, models_dir / "bach.onnx")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()

    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == [], errors
    code = [c for c in nb.cells if c.cell_type == "code"]
    by_source = {c.source.splitlines()[0]: c for c in code}

    poem = by_source["%%lstmgen -m {POEM} --form 5j --seed 7 --out poem"]
    html = [o for o in poem.outputs if "text/html" in o.get("data", {})]
    assert html and "lstmgen" in html[0].data["text/html"]
    widgets = [o for o in poem.outputs
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) == (1 if _has_ipywidgets() else 0)

    stream = by_source["%%lstmgen -m {POEM} --form 7j --n 2 --stream --seed 3 --out pair"]
    summary = [o for o in stream.outputs if "streamed 2 sample(s)" in
               o.get("data", {}).get("text/plain", "")]
    assert summary, stream.outputs  # the live display ended as its summary line

    scene = by_source["if SCENE:"]
    [scene_html] = [o.data["text/html"] for o in scene.outputs if "text/html" in o.get("data", {})]
    assert "font-variant:small-caps" in scene_html
    chorale = by_source["if MUSIC:"]
    [music_html] = [o.data["text/html"] for o in chorale.outputs
                    if "text/html" in o.get("data", {})]
    for needle in ('src="data:image/png;base64,', '<audio controls', 'href="data:audio/midi;base64,'):
        assert needle in music_html

    stats = by_source["%lstmgen stats"]
    [result] = [o for o in stats.outputs if o.output_type == "execute_result"]
    assert "<table" in result.data["text/html"] and "data:image/png" in result.data["text/html"]

    from shared_model import Studio

    with Studio() as studio:
        rows = studio.history(limit=50)
        assert rows and {r.source for r in rows} == {"notebook"}
        rated = [r for r in rows if r.ratings]
        assert len(rated) == 1 and {s.dimension for s in rated[0].ratings} == {"overall", "form"}
        assert len(studio.store.comparison_rows()) == 1
    print(f"kernel timings: first %%lstmgen {_seconds(poem):.3f} s, "
          f"streamed pair {_seconds(stream):.3f} s")


def _has_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True
