"""``%%lstmgen`` through a real InteractiveShell: options, errors, variable expansion,
``--out``, ``_``, display mimetypes, traitlets config and the rating subcommands, against
real tiny models and a real SQLite store."""

from __future__ import annotations

import json

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output


def run(sh, cell: str):
    return sh.run_cell(cell, store_history=True)


def _ok(sh, cell: str):
    with capture_output() as cap:
        res = run(sh, cell)
    assert res.error_in_exec is None, res.error_in_exec
    return res, cap


def _stored(sh, source: str | None = None) -> list:
    """What the magic's own store holds (the same Studio: no second writer racing it)."""
    return sh.magics_manager.registry["LstmGenMagics"].studio.history(limit=100, source=source)


def test_load_twice_is_harmless_and_unload_removes_the_magics(shell):
    from lstm_magic import load_ipython_extension

    load_ipython_extension(shell)  # a second registration attempt
    assert sum(type(m).__name__ == "LstmGenMagics" for m in shell.configurables) == 1
    _ok(shell, "%lstmgen models")
    run(shell, "%unload_ext lstm_magic")
    assert "lstmgen" not in shell.magics_manager.magics["line"]
    assert "lstmgen" not in shell.magics_manager.magics["cell"]
    assert not any(type(m).__name__ == "LstmGenMagics" for m in shell.configurables)
    with capture_output():
        res = run(shell, "%lstmgen models")
    assert isinstance(res.error_in_exec, UsageError)
    run(shell, "%load_ext lstm_magic")  # and it comes back
    _ok(shell, "%lstmgen models")


def test_help_shows_the_options_and_subcommands(shell):
    doc = shell.find_line_magic("lstmgen").__doc__
    for needle in ("--model", "--temp", "--acrostic", "--characters", "--bars", "--stream",
                   "--no-save", "--out", "%lstmgen rate", "%lstmgen export"):
        assert needle in doc
    assert shell.find_cell_magic("lstmgen").__doc__ == doc


def test_poem_cell_displays_html_and_text_and_sets_underscore(shell):
    res, cap = _ok(shell, "%%lstmgen --form 5j --seed 1\n春\n")
    [out] = cap.outputs
    assert set(out.data) == {"text/plain", "text/html"}
    result = shell.user_ns["_"]
    assert res.result is result
    lines = result.output["lines"]
    assert len(lines) == 4 and all(len(line) == 5 for line in lines)
    assert result.text.startswith("春")
    for line in result.formatted.splitlines():
        assert f"<div>{line}</div>" in out.data["text/html"]
    assert result.formatted in out.data["text/plain"]
    assert f"#{result.id}" in out.data["text/plain"]
    assert result.params["sampling"]["temperature"] == 0.8  # the default
    assert result.params["sampling"]["seed"] == 1
    assert "distinct_1" in result.metrics
    [row] = _stored(shell, "notebook")
    assert row.id == result.id and row.output_text == result.text and row.prompt == "春"


def test_variable_expansion_and_out(shell):
    shell.user_ns["opening"] = "秋"
    _ok(shell, "%%lstmgen --out poem --seed 2\n{opening}\n")
    poem = shell.user_ns["poem"]
    assert poem is shell.user_ns["_"]
    assert poem.text.startswith("秋") and poem.generation.prompt == "秋"


def test_free_text_braces_and_attributes(shell):
    class Box:
        word = "Shall"

    shell.user_ns["box"] = Box()
    _ok(shell, "%%lstmgen -m sonnet --max-len 10 --seed 3 --out r\n{box.word} {{x}} \n")
    assert shell.user_ns["r"].generation.prompt == "Shall {x} \n"


def test_traitlets_config_sets_default_model_and_temperature(shell):
    _ok(shell, "%config LstmGenMagics.default_model = 'sonnet'")
    _ok(shell, "%config LstmGenMagics.temperature = 0.0")
    _ok(shell, "%%lstmgen --max-len 25 --out a\nSo long \n")
    _ok(shell, "%%lstmgen --max-len 25 --out b\nSo long \n")
    a, b = shell.user_ns["a"], shell.user_ns["b"]
    assert a.model == "sonnet" and a.params["sampling"]["temperature"] == 0.0
    assert a.text == b.text  # greedy: the same text twice, whatever the seeds


def test_scene_with_quoted_characters_is_set_as_a_script(shell):
    cell = '%%lstmgen -m shakespeare --characters "Romeo, Juliet" --turns 2 --seed 1\nO, soft!\n'
    _, cap = _ok(shell, cell)
    scene = shell.user_ns["_"]
    speakers = [t["speaker"] for t in scene.output["turns"] if t["speaker"]]
    assert len(speakers) == 2 and set(speakers) <= {"ROMEO", "JULIET"}
    assert scene.generation.prompt == "O, soft!"
    assert scene.text.startswith("ROMEO:\nO, soft!")
    assert "font-variant:small-caps" in cap.outputs[0].data["text/html"]


def test_n_samples_side_by_side(shell):
    _, cap = _ok(shell, "%lstmgen --n 3 --seed 4 --form 7j")
    result = shell.user_ns["_"]
    assert len(result) == 3 and len(set(result.ids)) == 3
    [out] = cap.outputs
    html = out.data["text/html"]
    assert "display:flex" in html and html.count("border:1px solid #ddd") == 3
    for r in result:
        assert all(len(line) == 7 for line in r.output["lines"])
        assert f"#{r.id}" in out.data["text/plain"]


def test_no_save_records_nothing(shell):
    _ok(shell, "%lstmgen --no-save --seed 5")
    assert shell.user_ns["_"].id is None
    assert _stored(shell) == []


def test_stream_on_a_terminal_writes_the_pieces(shell):
    _, cap = _ok(shell, "%%lstmgen -m sonnet --stream --max-len 40 --seed 6\nShall \n")
    result = shell.user_ns["_"]
    assert cap.stdout.startswith(result.text)
    assert result.id is not None and len(result.text) > 0


@pytest.mark.parametrize("cell,needle", [
    ("%lstmgen --bogus", "unrecognized arguments: --bogus"),
    ("%lstmgen -m nope", "unknown model 'nope'"),
    ("%lstmgen --temp -1", "temperature must be"),
    ("%lstmgen --temp warm", "invalid float value"),
    ("%lstmgen -m shakespeare --acrostic 春夏秋冬", "--acrostic is a tang option"),
    ("%lstmgen -m sonnet --bars 4", "--bars is a bach option"),
    ("%lstmgen --acrostic 春夏", "4 characters"),
    ("%%lstmgen\n{missing}\n", "no variable named 'missing'"),
    ("%lstmgen --out 1x", "--out needs a variable name"),
    ('%lstmgen -m shakespeare --characters "ROMEO', "no closing quotation"),
    ("%lstmgen --n 0", "number of samples"),
    ("%%lstmgen -m shakespeare --characters ROMEO\nfirst\nsecond\n", "single line"),
    ("%lstmgen rate 1 4", "no generation"),
    ("%lstmgen rate 1 six", "invalid int value"),
    ("%lstmgen compare 1 2 maybe", "invalid choice"),
])
def test_bad_input_is_one_usage_error_line_and_nothing_is_recorded(shell, cell, needle):
    with capture_output() as cap:
        res = run(shell, cell)
    assert isinstance(res.error_in_exec, UsageError), res.error_in_exec
    message = str(res.error_in_exec)
    assert needle.lower() in message.lower() and "\n" not in message
    assert "Traceback" not in cap.stderr + cap.stdout
    assert _stored(shell) == []


def test_rate_compare_history_stats_and_export(shell, tmp_path):
    _ok(shell, "%lstmgen --n 2 --seed 7")
    a, b = shell.user_ns["_"].ids
    _, cap = _ok(shell, f"%lstmgen rate {a} 4")
    assert cap.stdout.strip() == f"rated #{a} 4/5 for overall"
    _, cap = _ok(shell, f"%lstmgen rate {a} 5 --dimension form")
    _, cap = _ok(shell, f"%lstmgen rate {a} 3")
    assert cap.stdout.strip() == f"rated #{a} 3/5 for overall (was 4)"
    _ok(shell, f"%lstmgen rate {b} 2")
    _, cap = _ok(shell, f"%lstmgen compare {a} {b} a")
    assert f"#{a} vs #{b} -> a" in cap.stdout

    res, cap = _ok(shell, "%lstmgen history 5")
    history = res.result
    assert [r["id"] for r in history] == [b, a]
    assert "overall 3.0 (1)" in history[1]["rating"]
    assert "<table" in shell.display_formatter.format(history)[0]["text/html"]

    res, cap = _ok(shell, "%lstmgen stats")
    stats = res.result
    rows = {(r["dimension"], r["n"], r["mean"]) for r in stats}
    assert ("overall", 2, 2.5) in rows and ("form", 1, 5.0) in rows
    data = shell.display_formatter.format(stats)[0]
    assert "<table" in data["text/html"] and 'src="data:image/png;base64,' in data["text/html"]
    assert "overall" in data["text/plain"] and "overall" in cap.stdout

    out = tmp_path / "ratings.jsonl"
    _, cap = _ok(shell, f"%lstmgen export {out}")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["id"] for r in records} == {a, b}
    assert "wrote 2 rows" in cap.stdout
    _ok(shell, f"%lstmgen export {tmp_path / 'ratings.csv'}")
    assert (tmp_path / "ratings.csv").read_text().startswith("id,")


def test_models_lists_the_models_dir(shell):
    res, cap = _ok(shell, "%lstmgen models")
    table = res.result
    by_domain = table.by_domain()  # user models, plus shipped ones of other domains
    assert {k: by_domain[k] for k in ("shakespeare", "tang", "text")} == \
        {"shakespeare": "shakespeare", "tang": "tang", "text": "sonnet"}
    assert "sonnet" in cap.stdout
    assert "<td" in shell.display_formatter.format(table)[0]["text/html"]
