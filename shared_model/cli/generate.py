"""``lstmgen generate``: free generation from any model (name or .onnx path), no domain rules.

Thin: parses flags into SamplingConfig / SessionConfig, calls the Studio (recorded with
source ``cli``) or, with --stream, the serving Decoder; prints text or JSON per sample. No numpy or onnxruntime here.
"""

from __future__ import annotations

import click

from shared_model.cli.generation import run_and_print
from shared_model.cli.output import json_option, settings


@click.command()
@click.argument("model")
@click.option("--prompt", default="", help="Text to continue (empty: start from <bos>).")
@click.option("--max-new", type=int, default=200, show_default=True, help="Most tokens to generate.")
@click.option("--temp", "temperature", type=float, default=0.8, show_default=True,
              help="Temperature in [0, 5]; 0 = greedy.")
@click.option("--top-k", type=int, default=0, show_default=True, help="Keep the k best tokens (0 = all).")
@click.option("--top-p", type=float, default=1.0, show_default=True, help="Nucleus mass in (0, 1].")
@click.option("--repetition-penalty", type=float, default=1.0, show_default=True,
              help=">1 discourages repeating tokens.")
@click.option("--seed", type=int, default=None, help="Same seed, same text (default: random, reported).")
@click.option("--n", "n", type=int, default=1, show_default=True, help="Samples, decoded as one batch.")
@click.option("--stop", multiple=True, help="Stop at this string (repeatable).")
@click.option("--stream", is_flag=True,
              help="Print text as it is generated (one sample; not recorded).")
@click.option("--no-save", is_flag=True, help="Do not record in the store.")
@click.option("--threads", type=int, default=0, help="onnxruntime threads (0 = all cores).")
@click.option("--provider", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True, help="Execution provider.")
@json_option
def generate(model: str, prompt: str, max_new: int, temperature: float, top_k: int, top_p: float,
             repetition_penalty: float, seed: int | None, n: int, stop: tuple[str, ...],
             stream: bool, no_save: bool, threads: int, provider: str, as_json: bool) -> None:
    """Generate text from MODEL (a model name or a path to an .onnx file)."""
    from shared_model.api import GenerateRequest
    from shared_model.serving.decode import Decoder
    from shared_model.serving.registry import Registry
    from shared_model.serving.sampling import SamplingConfig
    from shared_model.serving.session import SessionConfig

    if stream and (as_json or n > 1):
        raise click.BadParameter("--stream prints one sample as text; drop --json / --n",
                                 param_hint="--stream")
    config = SamplingConfig(temperature=temperature, top_k=top_k, top_p=top_p,
                            repetition_penalty=repetition_penalty, max_new_tokens=max_new,
                            seed=seed, stop=tuple(stop))
    session_config = SessionConfig(threads=threads, provider=provider)
    if stream:  # printed as it comes; not recorded (use --json for recorded output)
        session = Registry(settings()).open(model, session_config)
        for piece in Decoder(session).stream(prompt, config):
            click.echo(piece, nl=False)
        click.echo()
        return
    request = GenerateRequest(model, prompt=prompt, sampling=config, n=n)
    run_and_print(request, as_json=as_json, no_save=no_save, session_config=session_config,
                  show=lambda g: prompt + g.text)
