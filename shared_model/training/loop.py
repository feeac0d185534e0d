"""The training loop: ``TrainConfig``, ``TrainResult`` and ``train``.

``train`` reads top to bottom like nanoGPT's train.py: set the learning rate, evaluate
and checkpoint every ``eval_interval`` steps, forward/backward, clip, AdamW step, log.
Budgets: ``max_steps``, ``epochs`` and ``minutes`` (whichever ends first), plus early
stopping on the validation loss; every stop ends with an evaluation and a checkpoint.
Writes ``last.pt``, ``best.pt``, ``metrics.jsonl`` and ``loss.png`` into ``out_dir``
(rank 0 only under torchrun). Imports torch; never serving, storage or exporters.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from shared_model.domains.base import Corpus
from shared_model.errors import CheckpointError, InvalidRequest
from shared_model.tokenizer import CharTokenizer
from shared_model.training import distributed as dd
from shared_model.training.checkpoint import load_checkpoint, save_checkpoint
from shared_model.training.data import IGNORE, Batch, build_tokenizer, make_batches
from shared_model.training.model import LSTMLanguageModel, ModelConfig, State
from shared_model.training.progress import Progress
from shared_model.training.report import MetricsLog, plot_losses
from shared_model.training.resume import LoopState, check_resumable, make_payload, restore_rng
from shared_model.training.schedule import lr_at

DEFAULT_EPOCHS = 10  # the budget when none of max_steps / epochs / minutes is given
_LN2 = math.log(2.0)


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a training run; saved inside each checkpoint.

    Budgets (``max_steps``, ``epochs``, ``minutes``) combine: training stops at the first
    one reached. ``decay_steps`` pins the cosine's length in steps (otherwise it follows
    the budget), so a short run resumed into a longer one keeps the same schedule.
    """

    batch_size: int = 64
    seq_len: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.01
    warmup_steps: int = 30
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    eval_interval: int = 250
    eval_batches: int | None = None  # None: the whole validation split
    patience: int = 10  # evaluations without improvement before stopping; 0: never
    max_steps: int | None = None
    epochs: float | None = None
    minutes: float | None = None
    decay_steps: int | None = None
    seed: int = 1337
    device: str = "cpu"
    amp: bool = True  # CUDA only: bf16 autocast (fp16 + GradScaler without bf16)
    threads: int | None = None  # torch intra-op threads on CPU; None: torch's default
    onednn: bool | None = None  # oneDNN (mkldnn) kernels on CPU; None: torch's default
    log_interval: int = 10
    max_doc_len: int = 512  # documents are cropped to this many tokens

    def __post_init__(self) -> None:
        for name in ("batch_size", "seq_len", "eval_interval", "log_interval", "max_doc_len"):
            if int(getattr(self, name)) < 1:
                raise InvalidRequest(f"{name} must be a positive integer")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise InvalidRequest("lr must be a positive number")
        if self.weight_decay < 0 or self.grad_clip < 0 or self.warmup_steps < 0:
            raise InvalidRequest("weight_decay, grad_clip and warmup_steps cannot be negative")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise InvalidRequest("min_lr_ratio must be in [0, 1]")
        if self.patience < 0:
            raise InvalidRequest("patience cannot be negative (0 turns early stopping off)")
        for name in ("max_steps", "decay_steps", "eval_batches", "threads"):
            v = getattr(self, name)
            if v is not None and int(v) < 1:
                raise InvalidRequest(f"{name} must be a positive integer")
        for name in ("epochs", "minutes"):
            v = getattr(self, name)
            if v is not None and not (v > 0 and math.isfinite(v)):
                raise InvalidRequest(f"{name} must be a positive number, got {v}")
        if self.device not in ("cpu", "cuda"):
            raise InvalidRequest(f"device must be cpu or cuda, got {self.device!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainResult:
    """What a run produced; ``--json`` prints most of it."""

    checkpoint: Path | None  # best.pt (None on ranks > 0)
    last_checkpoint: Path | None
    val_loss: float
    val_ppl: float
    val_bpc: float
    best_val_loss: float
    steps: int
    epochs: float
    tokens: int
    tokens_per_s: float
    wall_s: float
    params: int
    stopped: str  # max_steps | epochs | time | early_stop
    metrics_path: Path | None = None
    plot_path: Path | None = None
    train_losses: list[float] = field(default_factory=list, repr=False)  # this session
    param_digest: str = ""  # sha256 of the final parameters (equal on every DDP rank)

    def summary(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("train_losses")
        return d


def train(corpus: Corpus, model_config: ModelConfig, config: TrainConfig, out_dir: str | Path,
          *, name: str | None = None, resume: str | Path | None = None, progress: bool = True,
          tokenizer: CharTokenizer | None = None) -> TrainResult:
    """Train (or resume) a language model on ``corpus``; see the module docstring.

    Args:
        model_config: its ``vocab_size`` must equal the tokenizer's size.
        tokenizer: defaults to ``build_tokenizer(corpus)`` (train split, control tokens).
        resume: a checkpoint of this run (``last.pt``) to continue exactly.

    Raises:
        CorpusError: empty or unusable corpus. CheckpointError: bad or foreign ``resume``.
        InvalidRequest: sizes that do not fit (vocab), CUDA asked for but missing.
    """
    out = Path(out_dir)
    name = name or corpus.name
    ctx = dd.init_distributed(config.device)
    try:
        return _run(corpus, model_config, config, out, name, resume, progress, tokenizer, ctx)
    finally:
        dd.shutdown(ctx)


def _domain_extra(corpus: Corpus, tok: CharTokenizer) -> dict[str, Any]:
    """What the domain wants the model file to carry (e.g. tang phonology and keyword PMI)."""
    from shared_model.domains import get_domain

    try:
        domain = get_domain(corpus.domain)
    except InvalidRequest:  # corpora built by hand in tests may name no registered domain
        return {}
    fn = getattr(domain, "metadata_extra", None)
    return dict(fn(corpus, tok.vocab)) if fn is not None else {}


def _run(corpus: Corpus, mc: ModelConfig, cfg: TrainConfig, out: Path, name: str,
         resume: str | Path | None, show: bool, tok: CharTokenizer | None,
         ctx: dd.DistContext) -> TrainResult:
    device = dd.device_for(ctx, cfg.device)
    _configure_torch(cfg)
    tok = tok or build_tokenizer(corpus)
    if mc.vocab_size != len(tok):
        raise InvalidRequest(f"model vocab_size {mc.vocab_size} != tokenizer size {len(tok)}")
    payload = load_checkpoint(resume) if resume is not None else None
    if payload is not None:
        check_resumable(payload, mc, tok, corpus)

    # data: this rank's shard of train, and of val
    shard = {"rank": ctx.rank, "world_size": ctx.world_size}
    train_data = make_batches(corpus, tok, "train", batch_size=cfg.batch_size,
                              seq_len=cfg.seq_len, seed=cfg.seed, max_len=cfg.max_doc_len, **shard)
    val_data = make_batches(corpus, tok, "val", batch_size=cfg.batch_size, seq_len=cfg.seq_len,
                            seed=cfg.seed, max_len=cfg.max_doc_len, **shard)
    if len(train_data) == 0:
        raise InvalidRequest("the train split is smaller than one batch; lower --batch-size")

    # model and optimizer: same init on every rank (DDP also broadcasts rank 0's weights)
    torch.manual_seed(cfg.seed)
    model = LSTMLanguageModel(mc).to(device)
    opt = torch.optim.AdamW(_param_groups(model, cfg.weight_decay), lr=cfg.lr,
                            betas=(0.9, 0.99), **_fused(device))
    amp_dtype, scaler = _amp(cfg, device)
    loop = LoopState()
    extra = _domain_extra(corpus, tok) if ctx.is_main else {}
    if payload is not None:
        model.load_state_dict(payload["model_state"])
        opt.load_state_dict(payload["optimizer_state"])
        loop = LoopState.from_payload(payload["loop_state"])
        if scaler is not None and payload.get("scaler_state"):
            scaler.load_state_dict(payload["scaler_state"])
        if ctx.is_main:
            restore_rng(payload["rng_state"])
    else:
        torch.manual_seed(cfg.seed + ctx.rank)  # dropout masks differ between ranks
    if loop.hidden is not None:
        loop.hidden = tuple(h.to(device) for h in loop.hidden)  # type: ignore[assignment]
    net = dd.wrap_model(model, ctx, device)

    budget = _Budget(cfg, steps_per_epoch=len(train_data), start=loop)
    log = MetricsLog(out / "metrics.jsonl" if ctx.is_main else None)
    bar = Progress(enabled=show and ctx.is_main, total_steps=budget.total_steps,
                   total_s=budget.seconds, start_step=loop.step)
    t0, t_log, tokens0 = time.perf_counter(), time.perf_counter(), loop.tokens
    wall0, start_step = loop.wall_s, loop.step
    losses: list[float] = []
    stopped, last_eval_step = "", -1
    batches = _batch_stream(train_data, loop)

    def checkpoint_and_eval() -> bool:
        """Evaluate, write last.pt (and best.pt); True when early stopping triggers."""
        nonlocal last_eval_step
        loop.wall_s = wall0 + time.perf_counter() - t0
        val = evaluate(model, val_data, device, amp_dtype, ctx, cfg.eval_batches)
        improved = val < loop.best_val
        loop.best_val, loop.bad_evals = (val, 0) if improved else (loop.best_val, loop.bad_evals + 1)
        loop.metrics = _metrics(val, corpus, loop)
        log.write({"kind": "eval", "step": loop.step, **loop.metrics, "wall_s": round(loop.wall_s, 2)})
        if ctx.is_main:
            p = make_payload(name=name, corpus=corpus, model=model, config=mc, tok=tok,
                             train_config=cfg.to_dict(), optimizer=opt, scaler=scaler,
                             scheduler=budget.state(loop), loop=loop, device=cfg.device,
                             world_size=ctx.world_size, extra=extra)
            save_checkpoint(out / "last.pt", p)
            if improved:
                save_checkpoint(out / "best.pt", p)
        bar.note_eval(val)
        last_eval_step = loop.step
        return cfg.patience > 0 and loop.bad_evals >= cfg.patience

    while True:
        # 1. budget: steps, epochs, time (one decision for all ranks)
        session_s = dd.all_reduce_max(time.perf_counter() - t0, ctx)
        stopped = budget.exhausted(loop, session_s)
        if stopped:
            break
        # 2. learning rate for this step: warm-up, then cosine over the budget
        lr = lr_at(loop.step, budget.progress(loop, session_s), lr=cfg.lr,
                   warmup_steps=cfg.warmup_steps, min_lr_ratio=cfg.min_lr_ratio)
        for group in opt.param_groups:
            group["lr"] = lr
        # 3. evaluate and checkpoint
        if loop.step % cfg.eval_interval == 0 and loop.step > start_step and checkpoint_and_eval():
            stopped = "early_stop"
            break
        # 4. forward / backward (state carried across windows of continuous text)
        batch = next(batches)
        loss, loop.hidden = _forward_backward(net, batch, loop.hidden, device, amp_dtype, scaler)
        # 5. clip and step
        if scaler is not None:
            scaler.unscale_(opt)
        norm = nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip) if cfg.grad_clip else None
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
        # 6. log
        loop.step += 1
        loop.tokens += batch.inputs.numel() * ctx.world_size
        loss_f = float(loss)
        losses.append(loss_f)
        bar.update(loop.step, loss_f, time.perf_counter() - t0, loop.tokens - tokens0)
        if loop.step % cfg.log_interval == 0:
            now = time.perf_counter()
            log.write({"kind": "train", "step": loop.step, "epoch": loop.epoch, "loss": loss_f,
                       "lr": lr, "grad_norm": None if norm is None else float(norm),
                       "tokens_per_s": round(cfg.log_interval * batch.inputs.numel()
                                             * ctx.world_size / max(now - t_log, 1e-9)),
                       "wall_s": round(wall0 + now - t0, 2)})
            t_log = now

    # final evaluation and checkpoint (unless this step was just evaluated)
    if (last_eval_step != loop.step and loop.step > start_step) or not loop.metrics:
        checkpoint_and_eval()
    bar.close()
    log.close()
    session = time.perf_counter() - t0
    plot = plot_losses(out / "metrics.jsonl", out / "loss.png", title=name) if ctx.is_main else None
    m = loop.metrics
    return TrainResult(
        checkpoint=out / "best.pt" if ctx.is_main else None,
        last_checkpoint=out / "last.pt" if ctx.is_main else None,
        val_loss=m["val_loss"], val_ppl=m["val_ppl"], val_bpc=m["val_bpc"],
        best_val_loss=loop.best_val, steps=loop.step,
        epochs=round(loop.epoch + loop.window / max(len(train_data), 1), 3),
        tokens=loop.tokens, tokens_per_s=round((loop.tokens - tokens0) / max(session, 1e-9), 1),
        wall_s=round(loop.wall_s, 2), params=model.num_parameters(), stopped=stopped,
        metrics_path=out / "metrics.jsonl" if ctx.is_main else None, plot_path=plot,
        train_losses=losses, param_digest=_digest(model))


def _digest(model: nn.Module) -> str:
    import hashlib

    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _forward_backward(net: nn.Module, batch: Batch, hidden: State | None, device: torch.device,
                      amp_dtype: torch.dtype | None, scaler: Any) -> tuple[torch.Tensor, State | None]:
    """One forward/backward pass; returns the loss and the detached state to carry."""
    x = batch.inputs.to(device, non_blocking=True)
    y = batch.targets.to(device, non_blocking=True)
    state = None if batch.reset else hidden
    with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
        logits, (h, c) = net(x, state)  # logits [B, T, V]
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), ignore_index=IGNORE)
    (scaler.scale(loss) if scaler is not None else loss).backward()
    return loss.detach(), (h.detach().float(), c.detach().float())


@torch.no_grad()
def evaluate(model: LSTMLanguageModel, data: Any, device: torch.device,
             amp_dtype: torch.dtype | None = None, ctx: dd.DistContext | None = None,
             max_batches: int | None = None) -> float:
    """Mean validation loss (nats per predicted token) over ``data``, all ranks together."""
    was_training = model.training
    model.eval()
    total, count, hidden = 0.0, 0, None
    for i, batch in enumerate(data.epoch(0)):
        if max_batches is not None and i >= max_batches:
            break
        x, y = batch.inputs.to(device), batch.targets.to(device)
        with torch.autocast(device.type, dtype=amp_dtype or torch.float32,
                            enabled=amp_dtype is not None):
            logits, hidden = model(x, None if batch.reset else hidden)
        total += float(F.cross_entropy(logits.float().flatten(0, 1), y.flatten(),
                                       ignore_index=IGNORE, reduction="sum"))
        count += batch.num_targets
    model.train(was_training)
    total, count = dd.all_reduce_sum([total, float(count)], ctx or dd.DistContext())
    return total / max(count, 1.0)


def _metrics(val: float, corpus: Corpus, loop: LoopState) -> dict[str, Any]:
    return {"val_loss": round(val, 5), "val_ppl": round(math.exp(min(val, 50.0)), 4),
            "val_bpc": round(val / _LN2, 5), "best_val_loss": round(loop.best_val, 5),
            "split": corpus.split.get("name", "val"), "step": loop.step}


def _batch_stream(data: Any, loop: LoopState):  # type: ignore[no-untyped-def]
    """Batches from the saved position onward, advancing ``loop.epoch``/``loop.window``."""
    while True:
        for batch in data.epoch(loop.epoch, start=loop.window):
            loop.window += 1
            if loop.window >= len(data):
                loop.epoch, loop.window = loop.epoch + 1, 0
            yield batch
        if loop.window != 0:  # an epoch ended early (empty shard batch): move on
            loop.epoch, loop.window = loop.epoch + 1, 0


class _Budget:
    """When to stop and how far along the schedule is, for steps, epochs and time."""

    def __init__(self, cfg: TrainConfig, steps_per_epoch: int, start: LoopState):
        epochs = cfg.epochs
        if cfg.max_steps is None and cfg.epochs is None and cfg.minutes is None:
            epochs = DEFAULT_EPOCHS
        self.cfg, self.steps_per_epoch = cfg, steps_per_epoch
        limits = [cfg.max_steps] if cfg.max_steps else []
        if epochs:
            limits.append(max(1, round(epochs * steps_per_epoch)))
        self.total_steps = min(limits) if limits else None
        self.epochs = epochs
        self.seconds = cfg.minutes * 60.0 if cfg.minutes else None
        self.wall_before = start.wall_s  # a resumed time budget decays over what is left

    def exhausted(self, loop: LoopState, session_s: float) -> str:
        if self.cfg.max_steps is not None and loop.step >= self.cfg.max_steps:
            return "max_steps"
        if self.epochs is not None and loop.step >= self.total_steps:  # type: ignore[operator]
            return "epochs"
        if self.seconds is not None and session_s >= self.seconds:
            return "time"
        return ""

    def progress(self, loop: LoopState, session_s: float) -> float:
        if self.cfg.decay_steps is not None:
            return loop.step / self.cfg.decay_steps
        fractions = []
        if self.total_steps is not None:
            fractions.append(loop.step / self.total_steps)
        if self.seconds is not None:
            done = self.wall_before + session_s
            fractions.append(done / (self.wall_before + self.seconds))
        return max(fractions)

    def state(self, loop: LoopState) -> dict[str, Any]:
        return {"kind": "warmup_cosine", "total_steps": self.total_steps,
                "seconds": self.seconds, "decay_steps": self.cfg.decay_steps, "step": loop.step}


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay on matrices (embedding, LSTM, head weights), none on biases."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": rest, "weight_decay": 0.0}]


def _fused(device: torch.device) -> dict[str, bool]:
    # fused AdamW: one kernel per step on CUDA; the foreach path is as fast on CPU
    return {"fused": True} if device.type == "cuda" else {"foreach": True}


def _amp(cfg: TrainConfig, device: torch.device) -> tuple[torch.dtype | None, Any]:
    """Autocast dtype and GradScaler: bf16 where the GPU has it, else fp16 + scaler."""
    if device.type != "cuda" or not cfg.amp:
        return None, None
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler("cuda")


def _configure_torch(cfg: TrainConfig) -> None:
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    if cfg.onednn is not None:
        torch.backends.mkldnn.enabled = cfg.onednn
    if cfg.device == "cuda":
        torch.backends.cudnn.enabled = True  # cuDNN's fused LSTM kernels
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


__all__ = ["TrainConfig", "TrainResult", "train", "evaluate", "CheckpointError"]
