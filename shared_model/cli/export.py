"""``lstmgen export``: a training checkpoint -> one self-contained .onnx model file.

Thin: the composition root reaches ``exporters`` (and so torch) only inside this command.
``--verify`` checks parity with PyTorch; ``--int8`` writes a quantized model that must pass
the agreement gate (``--force`` writes it anyway).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from shared_model.cli.output import emit_json, json_option


@click.command()
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
              help="The .onnx file to write.")
@click.option("--int8", is_flag=True, help="Write an int8 (dynamically quantized) model.")
@click.option("--force", is_flag=True, help="Write the int8 model even if it fails the gate.")
@click.option("--verify", is_flag=True, help="Check parity with PyTorch (max |Δlogit| < 1e-4).")
@click.option("--val-text", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Validation text for --int8 / --verify (default: the checkpoint's corpus).")
@click.option("--name", default=None, help="Model name in the metadata (default: the checkpoint's).")
@json_option
def export(checkpoint: Path, output: Path, int8: bool, force: bool, verify: bool,
           val_text: Path | None, name: str | None, as_json: bool) -> None:
    """Export CHECKPOINT to one .onnx file (graph, vocabulary, config and metrics inside)."""
    try:
        from exporters.export import ExportConfig, export_onnx
    except ImportError as exc:  # torch / onnx are the train extra
        raise click.ClickException(f"export needs the train extra ({exc.name} is missing): "
                                   "pip install 'lstmgen[train]'") from None
    from shared_model.errors import InvalidRequest
    from shared_model.serving.registry import file_sha256

    if force and not int8:
        raise click.BadParameter("--force only applies to --int8", param_hint="--force")
    if output.suffix != ".onnx":
        raise InvalidRequest(f"output must be a .onnx file, got {output.name!r}")
    text = val_text.read_text(encoding="utf-8") if val_text else None
    report: dict = {}
    with tempfile.TemporaryDirectory(prefix="lstmgen-export-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx" if int8 else output
        export_onnx(checkpoint, fp32, ExportConfig(name=name))
        if verify:
            from exporters.verify import verify_parity

            report["verify"] = verify_parity(checkpoint, fp32, text)
            if not report["verify"]["passed"]:
                raise InvalidRequest(
                    f"parity check failed: max |Δlogit| {report['verify']['max_abs_logit_diff']:.2e}")
        if int8:
            from exporters.quantize import QuantizeConfig, quantize_int8, validation_sequences
            from shared_model.domains import tokenizer_for
            from shared_model.training.checkpoint import load_checkpoint

            payload = load_checkpoint(checkpoint)
            tok = tokenizer_for(str(payload["domain"]), payload["vocab"], payload["special_tokens"])
            seqs, source = validation_sequences(payload, tok, text)
            report["int8"] = {**quantize_int8(fp32, output, seqs, QuantizeConfig(force=force)),
                              "validation": source}
    out = {"path": str(output), "size": output.stat().st_size, "sha256": file_sha256(output),
           "int8": bool(int8), **report}
    if as_json:
        emit_json(out)
        return
    click.echo(f"wrote {output} ({out['size'] / 2**20:.2f} MiB)")
    if verify:
        v = report["verify"]
        click.echo(f"parity: max |Δlogit| {v['max_abs_logit_diff']:.2e} over {len(v['cases'])} cases"
                   + ("" if v["real_text"] else " (random tokens only: no validation text)"))
    if int8:
        q = report["int8"]
        click.echo(f"int8: top-1 agreement {q['top1_agreement']:.2%}, perplexity "
                   f"{q['ppl_fp32']:.3f} -> {q['ppl_int8']:.3f} ({q['ppl_increase']:+.2%}) "
                   f"on {q['tokens']} tokens of {q['validation']}"
                   + ("" if q["passed"] else " — FAILED the gate, written because of --force"))
