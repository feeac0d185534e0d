"""One rank of the DDP test: run with ``torchrun --nproc_per_node 2 ddp_worker.py OUT``."""

import json
import os
import sys
from pathlib import Path

from corpora import continuous_corpus

from shared_model.training.data import build_tokenizer
from shared_model.training.loop import TrainConfig, train
from shared_model.training.model import ModelConfig

out = Path(sys.argv[1])
corpus = continuous_corpus(4000)
mc = ModelConfig(vocab_size=len(build_tokenizer(corpus)), embed_dim=8, hidden_size=24,
                 num_layers=2, dropout=0.1)
cfg = TrainConfig(batch_size=4, seq_len=16, lr=1e-2, warmup_steps=2, max_steps=30,
                  eval_interval=10, log_interval=1, patience=0, threads=1)
result = train(corpus, mc, cfg, out / "run", progress=False)
summary = result.summary()
summary["train_losses"] = result.train_losses
(out / f"rank{os.environ['RANK']}.json").write_text(json.dumps(summary, default=str))
