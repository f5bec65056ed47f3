"""Answer cards: load knowledge/cards/*.yml and validate them, naming the file and line of every problem."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from knowledge.errors import CardError
from knowledge.grounding import normalise, numbers_in
from knowledge.yaml_lines import LineDict, LineList, load_yaml

TYPE_VARIANTS = ("insertional", "midportion")
SEVERITY_VARIANTS = ("chronic", "mild")
VARIANT_NAMES = TYPE_VARIANTS + SEVERITY_VARIANTS
ANSWER_MAX_WORDS = 110
COMPOSED_MAX_WORDS = 130  # an answer plus an added variant
DETAIL_MAX_WORDS = 150
MIN_QUOTE_WORDS = 2
_MARKUP = re.compile(r"[*_#<>\[\]`|]")
_CARD_KEYS = {
    "id",
    "title",
    "question",
    "intent",
    "answer",
    "variants",
    "detail",
    "follow_ups",
    "claims",
    "disagreement",
    "key_facts",
}
_REQUIRED = ("id", "title", "question", "intent", "answer", "detail", "follow_ups", "claims", "key_facts")


@dataclass(frozen=True)
class Quote:
    source: str
    quote: str
    line: int


@dataclass(frozen=True)
class ClaimSpec:
    text: str
    sections: tuple[str, ...]
    quotes: tuple[Quote, ...]
    line: int


@dataclass(frozen=True)
class VariantSpec:
    name: str
    mode: str  # replace | add
    text: str
    detail: str | None
    line: int


@dataclass(frozen=True)
class DisagreementSpec:
    note: str
    sides: tuple[Quote, ...]
    line: int


@dataclass(frozen=True)
class CardSpec:
    """One validated card file."""

    id: str
    title: str
    question: str
    intent: str
    answer: str
    detail: str
    variants: tuple[VariantSpec, ...]
    follow_ups: tuple[str, ...]
    key_facts: tuple[str, ...]
    claims: tuple[ClaimSpec, ...]
    disagreement: DisagreementSpec | None
    path: Path
    lines: Mapping[str, int]

    def variant(self, name: str | None) -> VariantSpec | None:
        return next((v for v in self.variants if v.name == name), None)


def compose(
    answer: str, variants: Mapping[str, tuple[str, str]], tendinopathy_type: str | None, severity: str | None
) -> tuple[str, list[str]]:
    """The answer for a type and severity, and the card sections it is made of.

    variants maps name -> (mode, text). The type's variant applies first, then the severity's; a
    "replace" variant stands instead of the text so far, an "add" variant is appended to it.
    """
    text, sections = answer, ["answer"]
    for name in (tendinopathy_type, severity):
        if name is None or name not in variants:
            continue
        mode, variant_text = variants[name]
        if mode == "replace":
            text, sections = variant_text, [name]
        else:
            text, sections = f"{text} {variant_text}", sections + [name]
    return text, sections


def word_count(text: str) -> int:
    return len(text.split())


def load_cards(
    cards_dir: Path,
    source_ids: Iterable[str],
    forbidden_names: Iterable[str] = (),
    topic_intents: Mapping[str, str] | None = None,
) -> list[CardSpec]:
    """Every card in cards_dir, validated; topic_intents (intent -> card id) must each have a card."""
    if not cards_dir.is_dir():
        raise CardError("the cards folder does not exist", cards_dir)
    known_sources = set(source_ids)
    names = [n for n in forbidden_names if n]
    cards = [load_card(path, known_sources, names) for path in sorted(cards_dir.glob("*.yml"))]
    by_id = {card.id: card for card in cards}
    for card in cards:
        for index, target in enumerate(card.follow_ups):
            if target not in by_id:
                raise CardError(
                    f"follow-up {target!r} has no card; use one of {sorted(by_id)}",
                    card.path,
                    card.lines.get(f"follow_ups.{index}", card.lines["follow_ups"]),
                )
    if topic_intents is not None:
        for intent, card_id in topic_intents.items():
            if card_id not in by_id:
                raise CardError(
                    f"topic {card_id!r} (intent {intent}) has no card: write {card_id}.yml "
                    "(copy a card as a template)",
                    cards_dir,
                )
            if by_id[card_id].intent != intent:
                card = by_id[card_id]
                raise CardError(
                    f"intent {card.intent!r} does not match bot.topics, which maps {intent!r} to this card",
                    card.path,
                    card.lines["intent"],
                )
        extra = sorted(set(by_id) - set(topic_intents.values()))
        if extra:
            raise CardError(
                f"cards {extra} are not topics in bot/topics.py: add their intents there first",
                by_id[extra[0]].path,
            )
    return cards


def load_card(path: Path, known_sources: set[str], forbidden_names: list[str]) -> CardSpec:
    """Parse and validate one card file."""
    data = load_yaml(path, CardError)
    if not isinstance(data, LineDict):
        raise CardError("a card must be a YAML mapping (id, title, answer, claims, ...)", path, 1)
    unknown = sorted(set(data) - _CARD_KEYS)
    if unknown:
        raise CardError(
            f"unknown field {unknown[0]!r}; allowed fields: {sorted(_CARD_KEYS)}",
            path,
            data.line_of(unknown[0]),
        )
    for key in _REQUIRED:
        if key not in data:
            raise CardError(f"card has no `{key}`", path, data.line)
    lines: dict[str, int] = {key: data.line_of(key) for key in data}

    def text_field(
        mapping: LineDict, key: str, where: str, max_words: int | None = None, prose: bool = True
    ) -> str:
        value = mapping.get(key)
        if not isinstance(value, str) or not value.strip():
            raise CardError(f"{where} must be non-empty text", path, mapping.line_of(key))
        value = " ".join(value.split())
        if prose and _MARKUP.search(value):
            raise CardError(
                f"{where} must be plain text (no markup characters like * _ # [ ] < >)",
                path,
                mapping.line_of(key),
            )
        for name in forbidden_names:
            if re.search(rf"\b{re.escape(name)}\b", value):
                raise CardError(
                    f"{where} names a clinic ({name!r}); write it as the clinic team, "
                    "sources are shown separately",
                    path,
                    mapping.line_of(key),
                )
        if max_words is not None and word_count(value) > max_words:
            raise CardError(
                f"{where} has {word_count(value)} words; keep it to {max_words}", path, mapping.line_of(key)
            )
        return value

    card_id = text_field(data, "id", "id", prose=False)
    if card_id != path.stem:
        raise CardError(f"id {card_id!r} must match the file name ({path.stem}.yml)", path, lines["id"])
    title = text_field(data, "title", "title")
    question = text_field(data, "question", "question")
    intent = text_field(data, "intent", "intent", prose=False)
    answer = text_field(data, "answer", "answer", ANSWER_MAX_WORDS)
    detail = text_field(data, "detail", "detail", DETAIL_MAX_WORDS)

    variants: list[VariantSpec] = []
    raw_variants = data.get("variants") or LineDict()
    if not isinstance(raw_variants, LineDict):
        raise CardError(
            "variants must be a mapping of insertional/midportion/chronic/mild", path, lines.get("variants")
        )
    for name, body in raw_variants.items():
        line = raw_variants.line_of(name)
        if name not in VARIANT_NAMES:
            raise CardError(f"variant {name!r} is not one of {list(VARIANT_NAMES)}", path, line)
        if (
            not isinstance(body, LineDict)
            or len({"replace", "add"} & set(body)) != 1
            or set(body) - {"replace", "add", "detail"}
        ):
            raise CardError(
                f"variant {name!r} needs exactly one of `replace:` or `add:` (and may have `detail:`)",
                path,
                line,
            )
        mode = "replace" if "replace" in body else "add"
        limit = ANSWER_MAX_WORDS if mode == "replace" else COMPOSED_MAX_WORDS - word_count(answer)
        text = text_field(body, mode, f"variant {name}", limit)
        variant_detail = (
            text_field(body, "detail", f"variant {name} detail", DETAIL_MAX_WORDS)
            if "detail" in body
            else None
        )
        variants.append(VariantSpec(name, mode, text, variant_detail, line))
        lines[f"variants.{name}"] = line

    follow_ups = data["follow_ups"]
    if (
        not isinstance(follow_ups, LineList)
        or not 1 <= len(follow_ups) <= 3
        or not all(isinstance(f, str) for f in follow_ups)
    ):
        raise CardError("follow_ups must list 1 to 3 card ids", path, lines["follow_ups"])
    if card_id in follow_ups:
        raise CardError("a card cannot follow up to itself", path, lines["follow_ups"])
    for index in range(len(follow_ups)):
        lines[f"follow_ups.{index}"] = follow_ups.line_of(index)

    key_facts = data["key_facts"]
    if not isinstance(key_facts, LineList) or not key_facts or not all(isinstance(k, str) for k in key_facts):
        raise CardError("key_facts must list the phrases the answer must contain", path, lines["key_facts"])
    answer_plain = normalise(answer).lower()
    for index, fact in enumerate(key_facts):
        if fact != fact.lower():
            raise CardError(f"key fact {fact!r} must be lowercase", path, key_facts.line_of(index))
        if normalise(fact) not in answer_plain:
            raise CardError(
                f"the answer does not contain the key fact {fact!r}", path, key_facts.line_of(index)
            )

    sections = {"answer": answer, "detail": detail}
    for variant in variants:
        sections[variant.name] = variant.text
        if variant.detail:
            sections[f"{variant.name}.detail"] = variant.detail

    claims = _claims(data, path, known_sources, sections)
    disagreement = _disagreement(data, path, known_sources, text_field)

    variant_map = {v.name: (v.mode, v.text) for v in variants}
    for kind in (None, *TYPE_VARIANTS):
        for severity in (None, *SEVERITY_VARIANTS):
            composed, _ = compose(answer, variant_map, kind, severity)
            if word_count(composed) > COMPOSED_MAX_WORDS:
                raise CardError(
                    f"the answer for {kind or 'any type'} / {severity or 'any severity'} has "
                    f"{word_count(composed)} words; keep it to {COMPOSED_MAX_WORDS}",
                    path,
                    lines.get("variants", lines["answer"]),
                )

    return CardSpec(
        card_id,
        title,
        question,
        intent,
        answer,
        detail,
        tuple(variants),
        tuple(follow_ups),
        tuple(key_facts),
        claims,
        disagreement,
        path,
        lines,
    )


def _quotes(raw: object, path: Path, line: int, known_sources: set[str], where: str) -> tuple[Quote, ...]:
    if not isinstance(raw, LineList) or not raw:
        raise CardError(
            f'{where} has no quotes: add `quotes: [{{source: <id>, quote: "<verbatim text>"}}]`', path, line
        )
    quotes = []
    for index, item in enumerate(raw):
        item_line = raw.line_of(index)
        if (
            not isinstance(item, LineDict)
            or not isinstance(item.get("source"), str)
            or not isinstance(item.get("quote"), str)
        ):
            raise CardError(f"each quote of {where} needs `source:` and `quote:`", path, item_line)
        if item["source"] not in known_sources:
            raise CardError(
                f"unknown source {item['source']!r}; use an id from "
                f"knowledge/sources/manifest.yml: {sorted(known_sources)}",
                path,
                item.line_of("source"),
            )
        if word_count(item["quote"]) < MIN_QUOTE_WORDS:
            raise CardError(
                f"quote {item['quote']!r} is too short to ground anything (at least {MIN_QUOTE_WORDS} words)",
                path,
                item.line_of("quote"),
            )
        quotes.append(Quote(item["source"], item["quote"], item.line_of("quote")))
    return tuple(quotes)


def _claims(
    data: LineDict, path: Path, known_sources: set[str], sections: dict[str, str]
) -> tuple[ClaimSpec, ...]:
    raw = data["claims"]
    if not isinstance(raw, LineList) or not raw:
        raise CardError(
            "claims must list the card's statements with their quotes", path, data.line_of("claims")
        )
    claims = []
    for index, item in enumerate(raw):
        line = raw.line_of(index)
        if not isinstance(item, LineDict) or not isinstance(item.get("text"), str):
            raise CardError("each claim needs `text:`, `in:` and `quotes:`", path, line)
        if "quotes" not in item:
            raise CardError("claim has no quotes", path, line)
        used_in = item.get("in")
        if not isinstance(used_in, LineList) or not used_in or any(s not in sections for s in used_in):
            raise CardError(
                f"claim needs `in:` listing where it is stated, from {sorted(sections)}",
                path,
                item.line_of("in") if "in" in item else line,
            )
        quotes = _quotes(item["quotes"], path, item.line_of("quotes"), known_sources, "claim")
        claims.append(ClaimSpec(" ".join(item["text"].split()), tuple(used_in), quotes, line))
    for section, text in sections.items():
        backing = [c for c in claims if section in c.sections]
        if not backing:
            raise CardError(
                f"no claim backs the {section} text: add one with `in: [{section}]`",
                path,
                data.line_of("claims"),
            )
        quoted_numbers: set[str] = set()
        for claim in backing:
            for quote in claim.quotes:
                quoted_numbers |= numbers_in(quote.quote)
        missing = sorted(numbers_in(text) - quoted_numbers)
        if missing:
            raise CardError(
                f"the {section} text states {', '.join(missing)} but no quote of its claims "
                "does: quote the source that says it",
                path,
                data.line_of("claims"),
            )
    return tuple(claims)


def _disagreement(data: LineDict, path: Path, known_sources: set[str], text_field) -> DisagreementSpec | None:  # noqa: ANN001
    raw = data.get("disagreement")
    if raw is None:
        return None
    line = data.line_of("disagreement")
    if not isinstance(raw, LineDict) or "note" not in raw or "sides" not in raw:
        raise CardError("disagreement needs `note:` and `sides:`", path, line)
    note = text_field(raw, "note", "disagreement note")
    sides = _quotes(raw["sides"], path, raw.line_of("sides"), known_sources, "disagreement")
    if len({side.source for side in sides}) < 2:
        raise CardError(
            "a disagreement needs sides from at least two different sources", path, raw.line_of("sides")
        )
    return DisagreementSpec(note, sides, line)
