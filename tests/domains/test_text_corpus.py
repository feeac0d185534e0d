"""The text domain (and the reading rules the shakespeare domain shares): bad input,
normalisation, the prefix split, corpus identity."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from shared_model.domains import get_domain
from shared_model.domains.text import (
    DOMAIN,
    TextCorpusConfig,
    load_text_corpus,
    normalise_newlines,
    split_text,
)
from shared_model.errors import CorpusError, InvalidRequest

TINY = Path("/work/shared/data/shakespeare/tinyshakespeare.txt")

# (id, file bytes or None for "no file" / "dir" for a directory, expected message part)
BAD_INPUTS = [
    ("missing", None, "corpus file not found"),
    ("directory", "dir", "is a directory"),
    ("empty", b"", "is empty"),
    ("only-whitespace", b" \n\t\r\n  \n", "contains only whitespace"),
    ("one-character", b"aaaa\naaaa aaaa\n", "only one distinct character ('a')"),
    ("one-cjk-character", "春春春\n春春".encode(), "only one distinct character ('春')"),
    ("latin-1", b"caf\xe9 au lait, and more text here", "invalid byte 0xe9 at byte offset 3"),
    ("bad-byte-late", b"ROMEO:\nhello world\n\xff\n", "invalid byte 0xff at byte offset 19"),
    ("truncated-utf8", b"abcdef" + "\u00e9".encode()[:1], "invalid byte 0xc3 at byte offset 6"),
    ("utf-16", "ROMEO:\nhello\n".encode("utf-16"), "looks like UTF-16"),
    ("too-small", b"A:\nb\n", "too small to split"),  # 5 chars: 4 / 1
    ("too-small-val", b"AB:\ncdefgh", "too small to split"),  # 10 chars: 9 / 1
]


def _make(tmp_path: Path, content: bytes | str | None) -> Path:
    path = tmp_path / "corpus.txt"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    return path


@pytest.mark.parametrize("domain", ["text", "shakespeare"])
@pytest.mark.parametrize(("content", "message"), [(c, m) for _, c, m in BAD_INPUTS],
                         ids=[i for i, _, _ in BAD_INPUTS])
def test_bad_input_is_one_line_corpus_error(tmp_path, domain, content, message):
    path = _make(tmp_path, content)
    with pytest.raises(CorpusError) as err:
        get_domain(domain).load_corpus(path)
    text = str(err.value)
    assert message in text
    assert "\n" not in text
    assert "corpus.txt" in text  # the user can tell which file


def test_registry_returns_the_text_domain():
    domain = get_domain("text")
    assert domain is DOMAIN
    assert (domain.name, domain.continuous) == ("text", True)


def test_split_is_first_90_percent_of_characters(tmp_path):
    text = "".join(chr(ord("a") + i % 26) for i in range(1234)) + "\n"
    path = tmp_path / "letters.txt"
    path.write_text(text, encoding="utf-8")
    corpus = DOMAIN.load_corpus(path)
    cut = int(len(text) * 0.9)  # 1111
    assert cut == 1111
    assert corpus.train[0].text == text[:1111] and corpus.val[0].text == text[1111:]
    assert len(corpus.train) == len(corpus.val) == 1
    assert corpus.continuous and corpus.domain == "text"
    assert corpus.split == {"method": "prefix", "unit": "character", "train_fraction": 0.9,
                            "cut": 1111, "train_chars": 1111, "val_chars": 124}


def test_identity_is_of_the_raw_file_bytes(fixtures_dir):
    path = fixtures_dir / "text" / "sample.txt"
    raw = path.read_bytes()
    corpus = DOMAIN.load_corpus(path)
    assert corpus.name == "sample.txt"
    assert corpus.sha256 == hashlib.sha256(raw).hexdigest()
    assert corpus.size == len(raw) == 183
    # non-ASCII: the split counts characters, not bytes
    text = raw.decode("utf-8")
    assert corpus.stats["chars"] == len(text) == 132
    assert corpus.train[0].text + corpus.val[0].text == text
    assert len(corpus.train[0].text) == int(132 * 0.9)
    assert corpus.stats["lines"] == 5
    assert corpus.info()["sha256"] == corpus.sha256


def test_crlf_and_lone_cr_become_lf(tmp_path):
    raw = b"first line\r\nsecond line\rthird line\r\nfourth line, long enough to split\n"
    path = tmp_path / "dos.txt"
    path.write_bytes(raw)
    corpus = DOMAIN.load_corpus(path)
    text = corpus.train[0].text + corpus.val[0].text
    assert "\r" not in text
    assert text == "first line\nsecond line\nthird line\nfourth line, long enough to split\n"
    assert corpus.stats["newlines_normalised"] == 3
    assert corpus.sha256 == hashlib.sha256(raw).hexdigest() and corpus.size == len(raw)


def test_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfhello there, general reader\n")
    corpus = DOMAIN.load_corpus(path)
    assert (corpus.train[0].text + corpus.val[0].text).startswith("hello")
    assert corpus.stats["bom_removed"] is True


def test_normalise_newlines_is_identity_without_cr():
    text = "a\nb\n"
    assert normalise_newlines(text) == (text, 0)
    assert normalise_newlines("a\r\n\r\nb\r") == ("a\n\nb\n", 3)


def test_train_fraction_option(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("0123456789" * 10, encoding="utf-8")
    corpus = DOMAIN.load_corpus(path, train_fraction=0.75)
    assert len(corpus.train[0].text) == 75 and len(corpus.val[0].text) == 25
    assert corpus.split["train_fraction"] == 0.75


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.1, "0.9", True, None])
def test_bad_train_fraction(value):
    with pytest.raises(InvalidRequest, match="train_fraction"):
        TextCorpusConfig(train_fraction=value)


def test_unknown_option_is_named(tmp_path, fixtures_dir):
    with pytest.raises(InvalidRequest, match="unknown corpus option.*val_size"):
        DOMAIN.load_corpus(fixtures_dir / "text" / "sample.txt", val_size=10)


def test_split_text_needs_two_characters_each_side():
    train, val, record = split_text("abcdefghijklmnopqrst", 0.9)
    assert (train, val, record["cut"]) == ("abcdefghijklmnopqr", "st", 18)
    with pytest.raises(CorpusError, match="too small"):
        split_text("ab", 0.5)  # 1 / 1


def test_split_text_boundary():
    # 19 characters: cut int(17.1) = 17, validation 2 -> allowed
    assert split_text("a" * 19, 0.9)[2]["val_chars"] == 2
    # 11 characters: cut int(9.9) = 9, validation 2 -> allowed; 10 -> cut 9, val 1 -> refused
    assert split_text("a" * 11, 0.9)[2]["val_chars"] == 2
    with pytest.raises(CorpusError, match="1 for validation"):
        split_text("a" * 10, 0.9)


def test_string_path_is_accepted(fixtures_dir):
    corpus = load_text_corpus(str(fixtures_dir / "text" / "sample.txt"))
    assert corpus.name == "sample.txt"


@pytest.mark.skipif(not TINY.is_file(), reason="needs /work/shared/data (the real corpus)")
def test_tiny_shakespeare_standard_split_as_text():
    corpus = DOMAIN.load_corpus(TINY)
    text = TINY.read_text(encoding="utf-8")
    assert corpus.val[0].text == text[-111540:]
    assert len(corpus.train[0].text) == 1003854
    assert corpus.sha256 == "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    assert corpus.size == 1115394 and corpus.stats["distinct_chars"] == 65
