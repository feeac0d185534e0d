"""``lstmgen eval``: NLL per token, perplexity and bits per character of a model on data.

Thin: resolves the model, loads the data as id sequences (plain text, or a corpus file
read by the model's domain), scores it batched on the ONNX model, prints the figures.
"""

from __future__ import annotations

from pathlib import Path

import click

from shared_model.cli.output import emit_json, json_option, settings


@click.command()
@click.argument("model")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path),
              help="A UTF-8 text file, or a corpus file of the model's domain (val split).")
@click.option("--batch-size", type=int, default=16, show_default=True, help="Sequences per call.")
@click.option("--threads", type=int, default=0, help="onnxruntime threads (0 = all cores).")
@json_option
def evaluate(model: str, data: Path, batch_size: int, threads: int, as_json: bool) -> None:
    """Perplexity of MODEL (name or .onnx path) on --data."""
    import time

    from shared_model.serving.registry import Registry
    from shared_model.serving.scoring import ScoreConfig, load_sequences, score
    from shared_model.serving.session import SessionConfig

    score_config = ScoreConfig(batch_size=batch_size)
    session = Registry(settings()).open(model, SessionConfig(threads=threads))
    sequences = load_sequences(session.tokenizer, data, session.meta.domain)
    start = time.perf_counter()
    result = score(session, sequences, score_config)
    seconds = time.perf_counter() - start
    out = {"model": session.name, "data": str(data), **result.to_dict(),
           "seconds": round(seconds, 3), "provider": session.provider}
    if as_json:
        emit_json(out)
        return
    click.echo(f"{session.name} on {data.name}: {result.tokens} tokens, "
               f"NLL/token {result.nll_per_token:.4f}, perplexity {result.perplexity:.3f}, "
               f"bits/char {result.bits_per_char:.4f} ({seconds:.2f} s, {session.provider})")
