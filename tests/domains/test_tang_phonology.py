"""Rhyme groups and tones: 中华新韵 from pinyin finals, 平水韵 from the packaged table,
and the PMI keyword table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shared_model.artifact import ArtifactMeta
from shared_model.domains.tang import DOMAIN
from shared_model.domains.tang.keywords import KeywordConfig, compute_keyword_table, keyword_bias
from shared_model.domains.tang.phonology import (
    lay_over_vocab,
    modern_phonology,
    pingshui_phonology,
    syllable_final,
    xinyun_reading,
)
from shared_model.domains.tang.script import convert_chars, convert_text
from shared_model.errors import InvalidRequest

# The 14 rhymes of 中华新韵 with syllables of each (tone digit = 1/2 平, 3/4 仄).
XINYUN_TABLE = [
    ("ma1", "麻", "ping"), ("jia1", "麻", "ping"), ("hua1", "麻", "ping"), ("ya2", "麻", "ping"),
    ("bo1", "波", "ping"), ("ge1", "波", "ping"), ("guo2", "波", "ping"), ("wo3", "波", "ze"),
    ("xie2", "皆", "ping"), ("yue4", "皆", "ze"), ("xue3", "皆", "ze"), ("lve4", "皆", "ze"),
    ("lai2", "开", "ping"), ("huai2", "开", "ping"), ("wai4", "开", "ze"),
    ("fei1", "微", "ping"), ("hui2", "微", "ping"), ("wei2", "微", "ping"), ("dui4", "微", "ze"),
    ("gao1", "豪", "ping"), ("xiao3", "豪", "ze"), ("yao2", "豪", "ping"),
    ("liu2", "尤", "ping"), ("you2", "尤", "ping"), ("tou2", "尤", "ping"),
    ("tian1", "寒", "ping"), ("yuan2", "寒", "ping"), ("guan1", "寒", "ping"), ("xuan1", "寒", "ping"),
    ("chun1", "文", "ping"), ("yun2", "文", "ping"), ("jun1", "文", "ping"), ("wen2", "文", "ping"),
    ("lin2", "文", "ping"), ("guang1", "唐", "ping"), ("yang2", "唐", "ping"), ("wang4", "唐", "ze"),
    ("feng1", "庚", "ping"), ("ming2", "庚", "ping"), ("dong1", "庚", "ping"), ("xiong1", "庚", "ping"),
    ("weng1", "庚", "ping"), ("yong3", "庚", "ze"),
    ("xi1", "齐", "ping"), ("yi1", "齐", "ping"), ("er2", "齐", "ping"), ("yu2", "齐", "ping"),
    ("ju1", "齐", "ping"), ("lv4", "齐", "ze"), ("qu4", "齐", "ze"),
    ("shi1", "支", "ping"), ("zhi1", "支", "ping"), ("si1", "支", "ping"), ("ri4", "支", "ze"),
    ("ci2", "支", "ping"), ("gu1", "姑", "ping"), ("wu2", "姑", "ping"), ("shu1", "姑", "ping"),
]


@pytest.mark.parametrize(("syllable", "group", "tone"), XINYUN_TABLE)
def test_xinyun_groups_from_pinyin(syllable: str, group: str, tone: str) -> None:
    assert xinyun_reading(syllable) == (group, tone)


def test_finals_and_neutral_tone() -> None:
    assert syllable_final("zhi") == "-i" and syllable_final("ji") == "i"
    assert syllable_final("que") == "ve" and syllable_final("nüe") == "ve"
    assert xinyun_reading("de5") == ("波", None)


def test_modern_phonology_of_real_characters() -> None:
    table = modern_phonology("床前明月光疑是地上霜子a，")
    groups = {name: spec["chars"] for name, spec in table["groups"].items()}
    assert set("光霜床") <= set(groups["唐平"]) and "上" in groups["唐仄"]
    assert "月" in table["ze"] and "明" in table["ping"]
    assert "子" in table["ze"]  # pypinyin's default zi5 (neutral) falls back to zi3
    assert "a" not in table["ping"] + table["ze"] and "，" not in table["ping"] + table["ze"]


def test_pingshui_table_in_both_scripts() -> None:
    trad = pingshui_phonology("traditional")
    simp = pingshui_phonology("simplified")
    assert len(trad["groups"]) == len(simp["groups"]) == 106
    assert "東" in trad["groups"]["上平聲一東"]["chars"]
    assert "东" in simp["groups"]["上平声一东"]["chars"]
    assert simp["groups"]["下平声六麻"]["tone"] == "ping"
    assert "月" in simp["ze"] and "月" not in simp["ping"]  # 入声 kept: 月 is 仄
    assert "白" in simp["groups"]["入声十一陌"]["chars"]


def test_lay_over_vocab() -> None:
    vocab = ["<pad>", "东", "风", "月", "，"]
    vp = lay_over_vocab(pingshui_phonology("simplified"), vocab)
    assert vp.rhyme.shape == (5, 106)
    g = vp.groups.index("上平声一东")
    assert vp.rhyme[1, g] and vp.rhyme[2, g] and not vp.rhyme[3, g]
    assert vp.level[g] and vp.ping[1] and vp.ze[3] and not (vp.ping[0] or vp.ze[4])


def test_script_conversion() -> None:
    assert convert_chars("舉頭望明月", "simplified") == "举头望明月"
    assert convert_chars("举头", "traditional") == "舉頭"
    assert convert_text("乾坤", "simplified", "phrase") == "乾坤"
    assert convert_text("乾坤", "simplified", "char") == "干坤"  # the documented approximation
    with pytest.raises(InvalidRequest):
        convert_chars("x", "klingon")


def test_pmi_finds_planted_co_occurrence() -> None:
    # 月 always appears with 夜, never with 酒; 酒 always with 杯.
    poems = ["明月照夜空，清光满夜楼。"] * 12 + ["把酒对金杯，举杯饮美酒。"] * 12 + \
            ["山高水长流，云白风清秋。"] * 12 + ["花开春日暖，鸟语柳林新。"] * 12
    table = compute_keyword_table(poems, KeywordConfig(min_pair_count=3, min_char_count=3))
    assert table["windows"] == 48
    neighbours, scores = table["neighbours"]["月"]
    assert "夜" in neighbours and "杯" not in neighbours and "酒" not in neighbours
    assert scores == sorted(scores, reverse=True) and min(scores) > 0
    assert "杯" in table["neighbours"]["酒"][0]
    vocab = ["<pad>", "月", "夜", "杯", "酒", "山"]
    bias, used = keyword_bias(table, vocab, ["月"], strength=2.0)
    assert bias.dtype == np.float32 and bias[1] == pytest.approx(2.0)
    assert bias[2] > 0 and bias[3] == 0 and bias[4] == 0
    assert used["月"] == neighbours
    with pytest.raises(InvalidRequest, match="too rare"):
        keyword_bias(table, vocab + ["龙"], ["龙"], strength=1.0)


def test_metadata_extra_travels_in_the_artifact(fixtures_dir) -> None:
    corpus = DOMAIN.load_corpus(fixtures_dir / "tang" / "tangshi_sample.jsonl")
    vocab = ["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", "明", "月", "光"]
    extra = DOMAIN.metadata_extra(corpus, vocab, KeywordConfig(min_pair_count=2, min_char_count=2))
    assert extra["script"] == "simplified"
    assert "月" in extra["phonology"]["ze"]
    assert extra["keyword_pmi"]["neighbours"]
    meta = ArtifactMeta(domain="tang", name="t", vocab=vocab, special_tokens={},
                        config={"embed_dim": 1, "hidden_size": 1, "num_layers": 1,
                                "vocab_size": len(vocab), "dropout": 0.0, "tied": False},
                        extra=extra)
    back = ArtifactMeta.from_props(meta.to_props())
    assert back.extra == json.loads(json.dumps(extra, ensure_ascii=False))
