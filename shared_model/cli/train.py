"""``lstmgen train``: train an LSTM language model on a domain's corpus.

Thin: parse flags, load the corpus through the domain registry, build ModelConfig and
TrainConfig (per-domain default sizes below), call ``training.loop.train``, print the
result. torch is imported only inside the command, so the CLI starts without it.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import click

from shared_model.cli.output import emit_json, json_option, settings
from shared_model.domains import domain_names

# Sizes chosen by measured throughput on the 2-core CPU (see docs/BENCHMARKS.md);
# 'text' uses the shakespeare sizes.
DOMAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "shakespeare": {"embed_dim": 128, "hidden_size": 256, "layers": 2, "dropout": 0.1,
                    "batch_size": 64, "seq_len": 128, "lr": 3e-3},
    "tang": {"embed_dim": 256, "hidden_size": 512, "layers": 2, "dropout": 0.2,
             "batch_size": 64, "seq_len": 128, "lr": 2e-3, "min_freq": 5},
    "bach": {"embed_dim": 128, "hidden_size": 256, "layers": 2, "dropout": 0.2,
             "batch_size": 32, "seq_len": 128, "lr": 2e-3, "max_doc_len": 4096},
}
DOMAIN_DEFAULTS["text"] = DOMAIN_DEFAULTS["shakespeare"]


def _positive(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise click.BadParameter(f"must be greater than 0, got {value}", ctx, param)
    return value


@click.command("train")
@click.option("--domain", required=True, type=click.Choice(domain_names()),
              help="Which corpus format and defaults to use.")
@click.option("--data", "data_path", required=True, type=click.Path(path_type=Path),
              help="Corpus file or directory.")
@click.option("--name", help="Run name (default: the domain name).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Output dir (default: <LSTMGEN_HOME>/runs/<name>).")
@click.option("--minutes", type=float, callback=_positive, help="Wall-clock budget.")
@click.option("--epochs", type=float, callback=_positive, help="Budget in passes over the data.")
@click.option("--max-steps", type=int, callback=_positive, help="Budget in optimizer steps.")
@click.option("--resume", type=click.Path(path_type=Path, dir_okay=False),
              help="Continue exactly from this checkpoint (last.pt).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--embed-dim", type=int, help="Embedding size E.")
@click.option("--hidden-size", type=int, help="LSTM hidden size H.")
@click.option("--layers", type=int, help="LSTM layers L.")
@click.option("--dropout", type=float, help="Dropout probability.")
@click.option("--tied/--untied", default=None, help="Tie embedding and output weights.")
@click.option("--batch-size", type=int, help="Streams (text) or documents per batch.")
@click.option("--seq-len", type=int, help="BPTT window length T.")
@click.option("--lr", type=float, help="Peak learning rate.")
@click.option("--seed", type=int, default=1337, show_default=True)
@click.option("--eval-interval", type=int, help="Steps between evaluations/checkpoints.")
@click.option("--threads", type=int, help="CPU threads for torch.")
@click.option("--script", type=click.Choice(["simplified", "traditional"]),
              help="tang: train on Simplified (default, via OpenCC) or the original Traditional.")
@click.option("--max-doc-len", type=click.IntRange(min=8),
              help="Longest document (poem, chorale) in tokens; longer ones are cropped.")
@click.option("--min-freq", type=click.IntRange(min=1),
              help="Characters seen fewer times become <unk> (tang default 5: 99.8% coverage).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@json_option
def train(domain: str, data_path: Path, name: str | None, out_dir: Path | None,
          minutes: float | None, epochs: float | None, max_steps: int | None,
          resume: Path | None, device: str, seed: int, quiet: bool, as_json: bool,
          **sizes: Any) -> None:
    """Train an LSTM language model on a corpus; checkpoints go to --out.

    Writes best.pt, last.pt, metrics.jsonl and loss.png. With no budget it trains
    10 epochs (with early stopping).
    """
    from shared_model.domains import get_domain
    from shared_model.training.data import build_tokenizer
    from shared_model.training.loop import TrainConfig
    from shared_model.training.loop import train as run_training
    from shared_model.training.model import ModelConfig

    domain_obj = get_domain(domain)
    named = str(data_path) in getattr(domain_obj, "named_sources", ())  # e.g. bach: music21
    if not named and not data_path.exists():
        raise click.BadParameter(f"no such file or directory: {data_path}", param_hint="--data")
    options = {"script": sizes.pop("script")} if sizes.get("script") else {}
    sizes.pop("script", None)
    corpus = domain_obj.load_corpus(str(data_path) if named else data_path, **options)
    # where the corpus came from, so `lstmgen export --int8` can re-read its validation split
    corpus = dataclasses.replace(corpus, split={
        **corpus.split, "path": str(data_path) if named else str(data_path.resolve()),
        "options": options})
    name = name or domain
    if not re.fullmatch(r"[\w.-]+", name):
        raise click.BadParameter("use letters, digits, '-', '_' or '.'", param_hint="--name")
    d = {**DOMAIN_DEFAULTS.get(domain, DOMAIN_DEFAULTS["text"]),
         **{k: v for k, v in sizes.items() if v is not None}}
    tok = build_tokenizer(corpus, min_freq=int(d.get("min_freq") or 1))
    mc = ModelConfig(vocab_size=len(tok), embed_dim=d["embed_dim"], hidden_size=d["hidden_size"],
                     num_layers=d["layers"],
                     dropout=d["dropout"], tied=bool(d.get("tied") or False))
    tc = TrainConfig(batch_size=d["batch_size"], seq_len=d["seq_len"], lr=d["lr"], seed=seed,
                     minutes=minutes, epochs=epochs, max_steps=max_steps, device=device,
                     threads=d.get("threads"),
                     **({"eval_interval": d["eval_interval"]} if d.get("eval_interval") else {}),
                     **({"max_doc_len": d["max_doc_len"]} if d.get("max_doc_len") else {}))
    out = out_dir or settings().home / "runs" / name
    result = run_training(corpus, mc, tc, out, name=name, resume=resume,
                          progress=not (quiet or as_json), tokenizer=tok)
    if result.checkpoint is None:  # a rank > 0 under torchrun: rank 0 reports
        return
    summary = {**result.summary(), "domain": domain, "name": name,
               "vocab_size": len(tok), "config": mc.to_dict()}
    if as_json:
        emit_json(summary)
        return
    click.echo(f"{name}: val loss {result.val_loss:.4f} nats/token "
               f"(ppl {result.val_ppl:.3f}, {result.val_bpc:.3f} bits) after {result.steps} "
               f"steps, {result.tokens_per_s:,.0f} tokens/s, {result.wall_s:.0f} s "
               f"[{result.stopped}]")
    click.echo(f"checkpoint: {result.checkpoint}")
