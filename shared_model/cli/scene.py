"""``lstmgen scene``: a Shakespeare-style scene with the given speakers and turns.

Thin: flags -> SceneRequest + SamplingConfig -> Studio -> printed script or JSON.
"""

from __future__ import annotations

import click

from shared_model.cli.generation import run_and_print, sampling_config, sampling_options


@click.command()
@click.option("--characters", "-c", default="ROMEO,JULIET", show_default=True,
              help="Comma-separated speakers, e.g. \"ROMEO,JULIET,NURSE\" (any names).")
@click.option("--first-line", default="", help="The first speaker's opening line.")
@click.option("--turns", type=int, default=6, show_default=True, help="Speaker turns (1-200).")
@click.option("--stage-directions", is_flag=True, help="Allow Enter/Exit lines between turns.")
@sampling_options("shakespeare")
def scene(characters: str, first_line: str, turns: int, stage_directions: bool, model: str,
          temperature: float, top_k: int, top_p: float, repetition_penalty: float,
          seed: int | None, n: int, no_save: bool, as_json: bool) -> None:
    """Write a scene: lstmgen scene --characters "ROMEO,JULIET" --turns 4."""
    from shared_model.api import GenerateRequest
    from shared_model.domains.shakespeare.scene import SceneRequest

    request = SceneRequest(characters=characters, first_line=first_line, turns=turns,
                           stage_directions=stage_directions)
    sampling = sampling_config(temperature, top_k, top_p, repetition_penalty, seed)
    run_and_print(GenerateRequest(model, sampling=sampling, n=n, domain_request=request),
                  as_json=as_json, no_save=no_save)
