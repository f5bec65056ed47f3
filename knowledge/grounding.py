"""The grounding check: every card quote must appear verbatim in the source it names."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Only typography and whitespace are normalised when comparing a quote with its source, nothing else.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class QuoteMatch:
    start: int  # offsets into the ORIGINAL source text
    end: int


def normalise(text: str) -> str:
    """Typographic quotes and dashes made plain, runs of whitespace made one space, ends trimmed."""
    return _SPACE.sub(" ", text.translate(_TYPOGRAPHY)).strip()


class NormalisedText:
    """A source text normalised for matching, with a map back to original offsets."""

    def __init__(self, original: str) -> None:
        self.original = original
        chars: list[str] = []
        origin: list[int] = []
        previous_space = True
        for index, char in enumerate(original.translate(_TYPOGRAPHY)):
            if char.isspace():
                if previous_space:
                    continue
                char = " "
                previous_space = True
            else:
                previous_space = False
            chars.append(char)
            origin.append(index)
        self.text = "".join(chars)
        self.origin = origin

    def find(self, quote: str) -> QuoteMatch | None:
        """Where quote occurs in the original text (whitespace/typography-insensitive), or None."""
        needle = normalise(quote)
        if not needle:
            return None
        at = self.text.find(needle)
        if at < 0:
            return None
        last = at + len(needle) - 1
        return QuoteMatch(self.origin[at], self.origin[last] + 1)


def numbers_in(text: str) -> set[str]:
    """The numbers a text states ("4–6 weeks" -> {"4", "6"}): each must come from a cited quote."""
    return set(_NUMBER.findall(normalise(text)))
