"""The tang corpus: cleaning rules, form detection, containers, split, scripts, errors."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from shared_model.domains import get_domain
from shared_model.domains.tang.cleaning import clean_poem, remove_notes
from shared_model.domains.tang.corpus import TangCorpusConfig, load_corpus, split_bucket
from shared_model.domains.tang.forms import form_of_text, format_poem, parse_form, split_lines
from shared_model.errors import CorpusError, InvalidRequest

SAMPLE = Path(__file__).parents[1] / "fixtures" / "tang" / "tangshi_sample.jsonl"


def _poem(*paragraphs: str, pid: str = "x", title: str = "t") -> dict:
    return {"id": pid, "title": title, "author": "a", "paragraphs": list(paragraphs)}


def _write_jsonl(path: Path, poems: list[dict]) -> Path:
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in poems), "utf-8")
    return path


CLEANING_TABLE = [
    # (paragraphs, expected text or drop reason, control)
    (["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"],
     "床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。", "<5j>"),
    ([], "empty", None),
    (["  ", ""], "empty", None),
    (["（一作「叉」）"], "empty", None),
    (["冰□已鏤津，花餘凝地雪。"], "garbled", None),
    (["冰○已鏤津，花餘凝地雪。"], "garbled", None),
    (["妖韶援綠{𥫗/戢}，鳧鴈將子遊。"], "garbled", None),
    (["鳧鴈將子𥫗，妖韶援綠遊。"], "garbled", None),
    (["鳧鴈將子2，妖韶援綠遊。"], "garbled", None),
    (["邏人（一作「叉」）橫鳥道，江祖出魚梁。", "水急客舟（一作「行」）疾，山花拂面香。"],
     "邏人橫鳥道，江祖出魚梁。水急客舟疾，山花拂面香。", "<5j>"),
    # a footnote marker goes, the shape survives
    (["寧知猗[一]梧鳳，亦欲此栖宿。"], "寧知猗梧鳳，亦欲此栖宿。", "<other>"),
    # an editor-supplied character goes with its brackets: the line breaks, the poem goes
    (["[爽]節在重九，物華新雨餘。", "清秋黃葉下，菊散金潭初。"], "irregular", None),
    # title marks go, their content stays
    (["童子解吟《長恨曲》，胡兒能唱《琵琶篇》。"], "童子解吟長恨曲，胡兒能唱琵琶篇。", "<other>"),
    # a note cut off by the source
    (["知君桃李遍成蹊，故託喬林此處棲。（以上十三首詩從伯二五五五殘卷"], "unbalanced_note", None),
    # ？ and ！ may end either line of a couplet; 。。 is one mark; a missing final 。 is added
    (["夫子何爲者？栖栖一代中。。", "地猶鄹氏邑，宅即魯王宮"],
     "夫子何爲者，栖栖一代中。地猶鄹氏邑，宅即魯王宮。", "<5j>"),
    (["豈得保世業，諒以答明時；顧無白玉玷，忽負蒼蠅詩！"],
     "豈得保世業，諒以答明時。顧無白玉玷，忽負蒼蠅詩。", "<5j>"),
    # 。 after the first line of a couplet is out of place
    (["床前明月光。疑是地上霜。"], "irregular", None),
    (["柳絲長，春雨細，花外漏聲迢遞。"], "irregular", None),
    (["退居江水，鬱起丹陵。禮物還舊，朝章中興。"], "irregular", None),  # 四言
    (["前不見古人，後不見來者。", "念天地之悠悠，獨愴然而涕下。"], "irregular", None),  # 杂言
    (["一二三四五，六七八九十。一二三四五。"], "irregular", None),  # odd line count
    (["秦川雄帝宅，函谷壯皇居。", "綺殿千尋起，離宮百雉餘。", "連甍遙接漢，飛觀迥凌虛。",
      "雲日隱層闕，風煙出綺疎。"], None, "<5l>"),
    (["朝辭白帝彩雲間，千里江陵一日還。", "兩岸猿聲啼不住，輕舟已過萬重山。"], None, "<7j>"),
    (["昔人已乘黃鶴去，此地空餘黃鶴樓。", "黃鶴一去不復返，白雲千載空悠悠。",
      "晴川歷歷漢陽樹，芳草萋萋鸚鵡洲。", "日暮鄉關何處是，煙波江上使人愁。"], None, "<7l>"),
    (["一二三四五，六七八九十。"] * 3, None, "<other>"),  # 6 lines of 5
]


@pytest.mark.parametrize(("paragraphs", "expected", "control"), CLEANING_TABLE)
def test_cleaning_rules(paragraphs: list[str], expected: str | None, control: str | None) -> None:
    result = clean_poem(paragraphs)
    if control is None:
        assert result == expected
        return
    assert not isinstance(result, str), result
    assert result.control == control
    if expected is not None:
        assert result.text == expected
    assert result.text.count("，") == result.text.count("。")


def test_nested_notes_are_removed_from_the_inside_out() -> None:
    assert remove_notes("甲（乙（丙）丁）戊〖1〗己[二]") == "甲戊己"


def test_form_helpers() -> None:
    assert parse_form("七律").code == "7l"
    assert parse_form("<5j>").code == "5j"
    assert parse_form("五言绝句").line_count == 4
    with pytest.raises(InvalidRequest, match="unknown poem form '6j'"):
        parse_form("6j")
    text = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    assert form_of_text(text).code == "5j"
    assert form_of_text(text[:-1]) is None
    assert form_of_text(text.replace("霜。", "霜，")) is None
    assert split_lines(format_poem(text)) == ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]
    assert format_poem(text) == "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。"


def test_fixture_corpus_counts_forms_and_drops() -> None:
    corpus = load_corpus(SAMPLE)
    assert corpus.domain == "tang" and corpus.name == "tangshi_sample" and not corpus.continuous
    assert corpus.stats["poems_read"] == 45
    assert corpus.stats["forms"] == {"<5j>": 9, "<7j>": 9, "<5l>": 9, "<7l>": 9, "<other>": 5}
    assert corpus.stats["dropped"]["irregular"] == 4
    assert corpus.stats["kept"] == len(corpus.train) + len(corpus.val) == 41
    assert corpus.control_tokens == ("<5j>", "<7j>", "<5l>", "<7l>", "<other>")
    for doc in corpus.train + corpus.val:
        assert len(doc.controls) == 1
        form = form_of_text(doc.text)
        assert (form.control if form else "<other>") == doc.controls[0]
        assert "\n" not in doc.text
    assert corpus.split["train"] == len(corpus.train) and corpus.split["val"] >= 1


def test_forms_only_drops_other_poems() -> None:
    corpus = load_corpus(SAMPLE, forms_only=True)
    assert corpus.stats["kept"] == 36 and corpus.stats["dropped"]["not_a_form"] == 5
    assert "<other>" not in corpus.control_tokens
    assert all(d.controls[0] != "<other>" for d in corpus.train + corpus.val)


def test_simplified_is_default_and_traditional_keeps_the_source() -> None:
    simp = load_corpus(SAMPLE)
    trad = load_corpus(SAMPLE, script="traditional")
    simp_text = "".join(d.text for d in simp.train + simp.val)
    trad_text = "".join(d.text for d in trad.train + trad.val)
    assert len(simp_text) == len(trad_text)
    assert "鄉" in trad_text and "乡" in simp_text and "鄉" not in simp_text
    assert simp.stats["script"] == "simplified" and trad.stats["conversion"] == "none"
    # The same poems land on the same side whichever the script.
    assert [len(d.text) for d in simp.val] == [len(d.text) for d in trad.val]
    phrase = load_corpus(SAMPLE, conversion="phrase")
    phrase_text = "".join(d.text for d in phrase.train + phrase.val)
    assert len(phrase_text) == len(simp_text)
    assert sum(a != b for a, b in zip(phrase_text, simp_text, strict=True)) <= 5


def test_split_is_deterministic_and_independent_of_order_and_container(tmp_path: Path) -> None:
    poems = [json.loads(line) for line in SAMPLE.read_text("utf-8").splitlines()]
    shuffled = poems[:]
    random.Random(3).shuffle(shuffled)
    a = load_corpus(SAMPLE, val_fraction=0.2)
    b = load_corpus(_write_jsonl(tmp_path / "shuffled.jsonl", shuffled), val_fraction=0.2)
    (tmp_path / "list.json").write_text(json.dumps(shuffled, ensure_ascii=False), "utf-8")
    c = load_corpus(tmp_path / "list.json", val_fraction=0.2)
    assert {d.text for d in a.val} == {d.text for d in b.val} == {d.text for d in c.val}
    assert {d.text for d in a.train} == {d.text for d in b.train}
    assert 2 <= len(a.val) <= 16  # ~20% of 41
    assert a.val == load_corpus(SAMPLE, val_fraction=0.2).val
    # The rule itself: the first 32 bits of SHA-1 of the cleaned source text.
    assert split_bucket("床前明月光，疑是地上霜。") == split_bucket("床前明月光，疑是地上霜。")
    assert 0.0 <= split_bucket("x") < 1.0


def test_duplicates_are_dropped(tmp_path: Path) -> None:
    p = _poem("朝辭白帝彩雲間，千里江陵一日還。", "兩岸猿聲啼不住，輕舟已過萬重山。")
    q = _poem("床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。")
    corpus = load_corpus(_write_jsonl(tmp_path / "d.jsonl", [p, dict(p, id="y"), q]))
    assert corpus.stats["kept"] == 2 and corpus.stats["dropped"]["duplicate"] == 1
    # Both texts hash below 2%; the larger one goes back so training is not empty.
    assert len(corpus.val) == 1 and len(corpus.train) == 1


def test_directory_and_gzip_containers(tmp_path: Path) -> None:
    poems = [json.loads(line) for line in SAMPLE.read_text("utf-8").splitlines()]
    folder = tmp_path / "tang"
    folder.mkdir()
    for n, start in ((0, 0), (1000, 20), (2000, 40)):
        chunk = poems[start:start + 20]
        (folder / f"poet.tang.{n}.json").write_text(json.dumps(chunk, ensure_ascii=False), "utf-8")
    (folder / "poet.song.0.json").write_text("not read", "utf-8")
    gz = tmp_path / "poems.jsonl.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    gz_list = tmp_path / "poems.json.gz"
    gz_list.write_bytes(gzip.compress(json.dumps(poems).encode()))
    base = load_corpus(SAMPLE)
    for path in (folder, gz, gz_list):
        corpus = load_corpus(path)
        assert corpus.stats["kept"] == base.stats["kept"]
        assert sorted(d.text for d in corpus.train) == sorted(d.text for d in base.train)
    assert load_corpus(gz).name == "poems"
    assert load_corpus(folder).sha256 != load_corpus(gz).sha256


def _error(path: Path, **options: object) -> str:
    with pytest.raises(CorpusError) as info:
        load_corpus(path, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_bad_input_gives_one_line_errors(tmp_path: Path) -> None:
    assert "no such file or directory" in _error(tmp_path / "missing.jsonl")
    (tmp_path / "empty_dir").mkdir()
    assert "no poet.tang.*.json files" in _error(tmp_path / "empty_dir")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(_poem("床前明月光，疑是地上霜。")) + "\n{oops\n", "utf-8")
    assert "invalid JSON at line 2" in _error(bad)
    bad_list = tmp_path / "bad.json"
    bad_list.write_text('[\n{"paragraphs": []},\n{oops}\n]', "utf-8")
    assert "invalid JSON at line 3" in _error(bad_list)
    not_poem = tmp_path / "np.jsonl"
    not_poem.write_text('{"title": "x"}\n', "utf-8")
    assert "line 1: poem has no 'paragraphs' list" in _error(not_poem)
    garbled_only = _write_jsonl(tmp_path / "g.jsonl", [_poem("冰□已鏤津，花餘凝地雪。"), _poem()])
    message = _error(garbled_only)
    assert "no poems left after cleaning" in message and "1 garbled" in message and "1 empty" in message
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes('{"paragraphs": ["é"]}'.encode("latin-1"))
    assert "not UTF-8" in _error(latin1)
    broken_gz = tmp_path / "broken.jsonl.gz"
    broken_gz.write_bytes(gzip.compress(SAMPLE.read_bytes())[:200])
    assert "cannot read" in _error(broken_gz)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", "utf-8")
    assert "no poems left" in _error(empty)


def test_bad_options() -> None:
    with pytest.raises(InvalidRequest, match="script"):
        load_corpus(SAMPLE, script="cyrillic")
    with pytest.raises(InvalidRequest, match="val_fraction"):
        TangCorpusConfig(val_fraction=0.7)
    with pytest.raises(InvalidRequest, match="unexpected keyword"):
        load_corpus(SAMPLE, colour="red")


def test_registry_returns_the_tang_domain() -> None:
    domain = get_domain("tang")
    assert domain.name == "tang" and domain.continuous is False
    assert domain.load_corpus(SAMPLE).stats["kept"] == 41
