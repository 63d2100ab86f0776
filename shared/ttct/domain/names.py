"""Sorting Vietnamese names the way reports list them: by given name, then middle names, then family name,
in Vietnamese alphabetical order (ă after a, đ after d, ơ after ô ...), tone marks deciding only ties.
"""
from __future__ import annotations

import unicodedata

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: i for i, letter in enumerate(_ALPHABET)}
_MODIFIERS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter (ă, â, ơ ...)
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền, hỏi, ngã, sắc, nặng


def _word_key(word: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    letters: list[str] = []
    tones: list[int] = []
    for ch in unicodedata.normalize("NFD", word.casefold()):
        if ch in _TONES and letters:
            tones[-1] = _TONES[ch]
        elif ch in _MODIFIERS and letters:
            letters[-1] = unicodedata.normalize("NFC", letters[-1] + ch)
        elif not unicodedata.combining(ch):
            letters.append(ch)
            tones.append(0)
    return tuple(_RANK.get(c, 100 + ord(c)) for c in letters), tuple(tones)


def name_sort_key(full_name: str) -> tuple:
    words = full_name.split()
    ordered = [words[-1], *words[1:-1], words[0]] if len(words) > 1 else words
    keys = [_word_key(w) for w in ordered]
    return tuple(k[0] for k in keys), tuple(k[1] for k in keys), full_name


def text_sort_key(text: str) -> tuple:
    """Vietnamese alphabetical order of a text read as written (an organisation's name, a title)."""
    keys = [_word_key(w) for w in text.split()]
    return tuple(k[0] for k in keys), tuple(k[1] for k in keys), text
