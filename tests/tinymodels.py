"""Tiny real models for the tests: trained for seconds with plain torch, saved as real
checkpoints (exported by the fixtures in conftest.py). A module of its own, with a unique
name, so test files can import these helpers whatever conftest is imported first.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


# --- the tiny real model (serving and exporter tests) -------------------------------

TINY_TEXT = """Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.
"""


def train_tiny_checkpoint(path: Path, *, steps: int = 200, seed: int = 0) -> Path:
    """Train a tiny LSTM on TINY_TEXT with plain torch and save a real checkpoint."""
    import torch

    from shared_model.tokenizer import CharTokenizer
    from shared_model.training.checkpoint import save_checkpoint
    from shared_model.training.model import LSTMLanguageModel, ModelConfig

    torch.manual_seed(seed)
    tok = CharTokenizer.build([TINY_TEXT])
    cfg = ModelConfig(vocab_size=len(tok), embed_dim=16, hidden_size=32, num_layers=2,
                      dropout=0.0)
    model = LSTMLanguageModel(cfg)
    ids = torch.tensor([tok.bos_id] + tok.encode(TINY_TEXT) + [tok.eos_id])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(seed)
    window, batch = 32, 8
    loss_value = float("nan")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: one thread is faster, and the CPU is shared
    try:
        for _ in range(steps):
            starts = torch.randint(0, len(ids) - window - 1, (batch,), generator=gen)
            x = torch.stack([ids[s:s + window] for s in starts])
            y = torch.stack([ids[s + 1:s + window + 1] for s in starts])
            logits, _ = model(x)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, cfg.vocab_size),
                                                     y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_value = float(loss.detach())
    finally:
        torch.set_num_threads(threads)
    payload = {
        "step": steps, "domain": "text", "name": "tiny", "model_config": cfg.to_dict(),
        "model_state": model.state_dict(), "vocab": tok.vocab,
        "special_tokens": tok.special_tokens,
        "corpus": {"name": "sonnet18.txt", "sha256": "0" * 64, "size": len(TINY_TEXT)},
        "split": {}, "metrics": {"train_loss": round(loss_value, 4), "split": "train"},
        "train_config": {"steps": steps}, "trainer": {"steps": steps},
        "extra": {},
    }
    return save_checkpoint(path, payload)


# --- tiny real domain models (poem / scene / music tests of the CLI, bot and magic) ----

def train_tiny_domain_checkpoint(path: Path, domain_name: str, data: Path | str, *,
                                 steps: int = 150, seed: int = 0, hidden: int = 32) -> Path:
    """Train a tiny LSTM on a domain's fixture corpus (with its control tokens) and save it.

    Documents are trained as whole padded sequences; running text (shakespeare) as one
    document per 256-character chunk. Carries the domain's metadata ``extra`` as real
    models do.
    """
    import torch

    from shared_model.domains import get_domain
    from shared_model.tokenizer import CharTokenizer
    from shared_model.training.checkpoint import save_checkpoint
    from shared_model.training.model import LSTMLanguageModel, ModelConfig

    domain = get_domain(domain_name)
    corpus = domain.load_corpus(data) if domain_name != "bach" else \
        domain.load_corpus(data, use_cache=False)
    builder = getattr(domain, "build_tokenizer", None)
    tok = builder(corpus) if builder else CharTokenizer.build(
        [d.text for d in corpus.train + corpus.val], control_tokens=corpus.control_tokens)
    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_size=len(tok), embed_dim=16, hidden_size=hidden, num_layers=1,
                      dropout=0.0)
    model = LSTMLanguageModel(cfg)
    docs = []
    for d in corpus.train:
        body = tok.encode(d.text)
        for start in range(0, max(len(body), 1), 256 if corpus.continuous else 10**9):
            docs.append([tok.bos_id] + [tok.token_id(c) for c in d.controls]
                        + body[start:start + (256 if corpus.continuous else 10**9)]
                        + [tok.eos_id])
    width = max(len(d) for d in docs)
    batch = torch.full((len(docs), width), tok.pad_id)
    for i, d in enumerate(docs):
        batch[i, :len(d)] = torch.tensor(d)
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(steps):
            logits, _ = model(batch[:, :-1])
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, cfg.vocab_size), batch[:, 1:].reshape(-1),
                ignore_index=tok.pad_id)
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    extra_fn = getattr(domain, "metadata_extra", None)
    payload = {
        "step": steps, "domain": domain_name, "name": domain_name,
        "model_config": cfg.to_dict(), "model_state": model.state_dict(), "vocab": tok.vocab,
        "special_tokens": tok.special_tokens, "corpus": corpus.info(), "split": corpus.split,
        "metrics": {"train_loss": round(float(loss.detach()), 4), "split": "train"},
        "train_config": {"steps": steps}, "trainer": {"steps": steps},
        "extra": extra_fn(corpus, tok.vocab) if extra_fn else {},
    }
    return save_checkpoint(path, payload)


def train_tiny_tang_checkpoint(path: Path, *, steps: int = 150, seed: int = 0) -> Path:
    """The tang case of ``train_tiny_domain_checkpoint`` on the fixture poems."""
    return train_tiny_domain_checkpoint(path, "tang", FIXTURES / "tang" / "tangshi_sample.jsonl",
                                        steps=steps, seed=seed)


