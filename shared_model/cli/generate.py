"""``lstmgen generate``: free generation from any model (name or .onnx path), no domain rules.

Thin: parses flags into SamplingConfig / SessionConfig, calls the serving Decoder, prints
text or one JSON object per sample. No numpy or onnxruntime here.
"""

from __future__ import annotations

import click

from shared_model.cli.output import emit_json, json_option, settings


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
@click.option("--stream", is_flag=True, help="Print text as it is generated (one sample).")
@click.option("--threads", type=int, default=0, help="onnxruntime threads (0 = all cores).")
@click.option("--provider", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True, help="Execution provider.")
@json_option
def generate(model: str, prompt: str, max_new: int, temperature: float, top_k: int, top_p: float,
             repetition_penalty: float, seed: int | None, n: int, stop: tuple[str, ...],
             stream: bool, threads: int, provider: str, as_json: bool) -> None:
    """Generate text from MODEL (a model name or a path to an .onnx file)."""
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
    session = Registry(settings()).open(model, SessionConfig(threads=threads, provider=provider))
    decoder = Decoder(session)
    if stream:
        for piece in decoder.stream(prompt, config):
            click.echo(piece, nl=False)
        click.echo()
        return
    results = decoder.generate(prompt, config, n=n)
    if results[0].unknown_chars and not as_json:
        click.echo(f"note: not in the vocabulary, read as <unk>: {''.join(results[0].unknown_chars)}",
                   err=True)
    for r in results:
        if as_json:
            emit_json(r.to_dict())
        else:
            click.echo(prompt + r.text)
            if n > 1:
                click.echo("---")
