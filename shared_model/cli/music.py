"""``lstmgen music bach``: a four-part chorale as MIDI, MusicXML, WAV and a piano roll.

Thin: flags -> ChoraleRequest + SamplingConfig -> Studio -> files written atomically
(all or nothing) and a summary or JSON line.
"""

from __future__ import annotations

from pathlib import Path

import click

from shared_model.cli.generation import run_and_print, sampling_config, sampling_options


@click.command()
@click.argument("style", type=click.Choice(["bach"]), default="bach")
@click.option("--bars", type=int, default=8, show_default=True, help="Length in 4/4 bars (1-64).")
@click.option("--key", default="C", show_default=True, help="Output key: C, G, Bb, F#m, A minor ...")
@click.option("--tempo", type=float, default=80.0, show_default=True, help="Quarter notes per minute.")
@click.option("-o", "--out", "midi", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the MIDI file here (default: chorale-<id>.mid in the current dir).")
@click.option("--musicxml", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write MusicXML here.")
@click.option("--wav", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a WAV preview here.")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a piano-roll PNG here.")
@click.option("--allow-parallels", is_flag=True,
              help="Let the model write parallel fifths/octaves (banned by default).")
@sampling_options("bach", default_temp=1.0)
def music(style: str, bars: int, key: str, tempo: float, midi: Path | None,
          musicxml: Path | None, wav: Path | None, png: Path | None, allow_parallels: bool, model: str,
          temperature: float, top_k: int, top_p: float, repetition_penalty: float,
          seed: int | None, n: int, no_save: bool, as_json: bool) -> None:
    """Write a chorale in STYLE (bach): lstmgen music bach --bars 8 -o out.mid --wav out.wav."""
    from shared_model.api import GenerateRequest
    from shared_model.domains.bach.output import write_chorale_files
    from shared_model.domains.bach.request import ChoraleRequest

    if n > 1 and any(p is not None for p in (midi, musicxml, wav, png)):
        raise click.BadParameter("with --n > 1 files are named chorale-<id>.*; drop -o/--wav/...",
                                 param_hint="--n")
    for p in (midi, musicxml, wav, png):
        if p is not None and not p.parent.resolve().is_dir():
            raise click.BadParameter(f"no such directory: {p.parent}", param_hint=str(p))
    wanted = ("midi",) + tuple(f for f, p in (("musicxml", musicxml), ("wav", wav), ("png", png))
                               if p is not None)
    request = ChoraleRequest(bars=bars, key=key, tempo=tempo, formats=wanted,
                             allow_parallels=allow_parallels)
    sampling = sampling_config(temperature, top_k, top_p, repetition_penalty, seed)
    gens = run_and_print(GenerateRequest(model, sampling=sampling, n=n, domain_request=request),
                         as_json=as_json, no_save=no_save)
    for g in gens:
        stem = f"chorale-{g.id if g.id is not None else g.seed}"
        written = write_chorale_files(g.result, midi=midi or Path(f"{stem}.mid"),
                                      musicxml=musicxml, wav=wav, png=png)
        if not as_json:
            click.echo("wrote " + ", ".join(str(p) for p in written), err=True)
