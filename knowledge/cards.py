"""Answer cards: load knowledge/cards/*.yml and validate them, naming the file and line of every problem.

A card's texts (answer, detail, each variant, the disagreement note) are lists of sentences, each linked to
the claims that back it (`- text: ... claims: [id, ...]`). A claim has verbatim quotes from the documents,
or is the clinic's own advice (`source: clinic_policy`, `policy: <id in knowledge/clinic_policy.yml>`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.topics import INTENT_NAME
from knowledge.errors import CardError
from knowledge.grounding import normalise
from knowledge.policy import CLINIC_POLICY, optional_date, optional_name
from knowledge.sentences import split_sentences
from knowledge.yaml_lines import LineDict, LineList, load_yaml

TYPE_VARIANTS = ("insertional", "midportion")
SEVERITY_VARIANTS = ("chronic", "mild")
VARIANT_NAMES = TYPE_VARIANTS + SEVERITY_VARIANTS
ANSWER_MAX_WORDS = 110
COMPOSED_MAX_WORDS = 130  # an answer plus an added variant, the clinic's advice included
DETAIL_MAX_WORDS = 150
MIN_QUOTE_WORDS = 2
NOTE = "note"  # the section name of the disagreement note
_MARKUP = re.compile(r"[*_#<>\[\]`|]")
_CLAIM_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_CARD_KEYS = {"id", "title", "question", "intent", "answer", "variants", "detail", "follow_ups", "claims",
              "disagreement", "key_facts", "reviewed_by", "reviewed_on"}
_REQUIRED = ("id", "title", "question", "intent", "answer", "detail", "follow_ups", "claims", "key_facts",
             "reviewed_by", "reviewed_on")
T = TypeVar("T")


@dataclass(frozen=True)
class Quote:
    source: str
    quote: str
    line: int


@dataclass(frozen=True)
class ClaimSpec:
    """A statement the card relies on: verbatim quotes, or one entry of the clinic's policy file."""

    id: str
    text: str  # a short summary for staff ("" for a policy claim: the policy's text is the claim)
    quotes: tuple[Quote, ...]
    policy: str | None  # the clinic_policy.yml id when source is clinic_policy
    line: int

    @property
    def is_policy(self) -> bool:
        return self.policy is not None


@dataclass(frozen=True)
class Sentence:
    text: str
    claims: tuple[str, ...]
    policy: bool  # True when its claims are the clinic's advice (shown as such, with no document source)
    line: int


@dataclass(frozen=True)
class VariantSpec:
    name: str
    mode: str  # replace | add
    sentences: tuple[Sentence, ...]
    detail: tuple[Sentence, ...] | None
    line: int


@dataclass(frozen=True)
class DisagreementSpec:
    note: tuple[Sentence, ...]
    sides: tuple[Quote, ...]
    line: int


@dataclass(frozen=True)
class CardSpec:
    """One validated card file."""

    id: str
    title: str
    question: str
    intent: str
    answer: tuple[Sentence, ...]
    detail: tuple[Sentence, ...]
    variants: tuple[VariantSpec, ...]
    follow_ups: tuple[str, ...]
    key_facts: tuple[str, ...]
    claims: tuple[ClaimSpec, ...]
    disagreement: DisagreementSpec | None
    reviewed_by: str | None
    reviewed_on: dt.date | None
    path: Path
    lines: Mapping[str, int]

    def variant(self, name: str | None) -> VariantSpec | None:
        return next((v for v in self.variants if v.name == name), None)

    def claim(self, claim_id: str) -> ClaimSpec:
        return next(c for c in self.claims if c.id == claim_id)

    def sections(self) -> dict[str, tuple[Sentence, ...]]:
        """Every text of the card by section name: answer, detail, <variant>, <variant>.detail, note."""
        found = {"answer": self.answer, "detail": self.detail}
        for v in self.variants:
            found[v.name] = v.sentences
            if v.detail:
                found[f"{v.name}.detail"] = v.detail
        if self.disagreement:
            found[NOTE] = self.disagreement.note
        return found


def text_of(sentences: Sequence[Sentence]) -> str:
    """Sentences as the runner reads them: the documents' first, then the clinic's advice."""
    said = " ".join(s.text for s in sentences if not s.policy)
    advice = " ".join(s.text for s in sentences if s.policy)
    return " ".join(part for part in (said, f"The clinic's advice: {advice}" if advice else "") if part)


def compose(answer: Sequence[T], variants: Mapping[str, tuple[str, Sequence[T]]], tendinopathy_type: str | None,
            severity: str | None) -> tuple[list[T], list[str]]:
    """The answer's items for a type and severity, and the card sections they come from.

    variants maps name -> (mode, items). The type's variant applies first, then the severity's; a
    "replace" variant stands instead of everything so far, an "add" variant is appended to it.
    """
    items, sections = list(answer), ["answer"]
    for name in (tendinopathy_type, severity):
        if name is None or name not in variants:
            continue
        mode, variant_items = variants[name]
        if mode == "replace":
            items, sections = list(variant_items), [name]
        else:
            items, sections = items + list(variant_items), sections + [name]
    return items, sections


def word_count(text: str) -> int:
    return len(text.split())


def load_cards(cards_dir: Path, source_ids: Iterable[str], forbidden_names: Iterable[str] = (),
               policy_ids: Iterable[str] | None = None) -> list[CardSpec]:
    """Every card in cards_dir, validated. Each card is a topic: its `intent:` is that topic's NLU intent
    (bot/topics.py reads them; bot/topic_wiring.py derives the domain and rules from them)."""
    if not cards_dir.is_dir():
        raise CardError("the cards folder does not exist", cards_dir)
    if policy_ids is None:
        from knowledge.policy import load_policies

        policy_ids = load_policies()
    known_sources, names, policies = set(source_ids), [n for n in forbidden_names if n], set(policy_ids)
    cards = [load_card(path, known_sources, names, policies) for path in sorted(cards_dir.glob("*.yml"))]
    by_id = {card.id: card for card in cards}
    by_intent: dict[str, CardSpec] = {}
    for card in cards:
        if not INTENT_NAME.match(card.intent):
            raise CardError(f"intent {card.intent!r} must look like ask_<topic> (lower case, digits, _)",
                            card.path, card.lines["intent"])
        if card.intent in by_intent:
            raise CardError(f"intent {card.intent!r} is already the intent of {by_intent[card.intent].path.name}",
                            card.path, card.lines["intent"])
        by_intent[card.intent] = card
        for index, target in enumerate(card.follow_ups):
            if target not in by_id:
                raise CardError(f"follow-up {target!r} has no card; use one of {sorted(by_id)}", card.path,
                                card.lines.get(f"follow_ups.{index}", card.lines["follow_ups"]))
    return cards


class _Reader:
    """Field readers for one card file, each raising CardError with the file and line."""

    def __init__(self, path: Path, forbidden_names: list[str]) -> None:
        self.path, self.forbidden_names = path, forbidden_names

    def text(self, mapping: LineDict, key: str, where: str, prose: bool = True, line: int | None = None) -> str:
        line = line or mapping.line_of(key)
        value = mapping.get(key)
        if not isinstance(value, str) or not value.strip():
            raise CardError(f"{where} must be non-empty text", self.path, line)
        value = " ".join(value.split())
        if prose and _MARKUP.search(value):
            raise CardError(f"{where} must be plain text (no markup characters like * _ # [ ] < >)", self.path,
                            line)
        for name in self.forbidden_names:
            if re.search(rf"\b{re.escape(name)}\b", value):
                raise CardError(f"{where} names a clinic ({name!r}); write it as the clinic team, "
                                "sources are shown separately", self.path, line)
        return value

    def sentences(self, mapping: LineDict, key: str, where: str, claims: Mapping[str, ClaimSpec],
                  max_words: int | None) -> tuple[Sentence, ...]:
        raw = mapping.get(key)
        if not isinstance(raw, LineList) or not raw:
            raise CardError(f"{where} must list its sentences: `- text: <one sentence>` with "
                            "`claims: [<claim id>, ...]`", self.path, mapping.line_of(key))
        sentences = []
        for index, item in enumerate(raw):
            line = raw.line_of(index)
            if not isinstance(item, LineDict) or set(item) != {"text", "claims"}:
                raise CardError(f"each sentence of {where} needs exactly `text:` and `claims:`", self.path, line)
            text = self.text(item, "text", f"{where} sentence", line=item.line_of("text"))
            if len(split_sentences(text)) != 1:
                raise CardError(f"{where}: one sentence per item, split {text!r}", self.path, item.line_of("text"))
            linked = item["claims"]
            if not isinstance(linked, LineList) or not linked:
                raise CardError(f"sentence {text!r} links no claim: add `claims: [<claim id>]`", self.path,
                                item.line_of("claims"))
            unknown = [c for c in linked if c not in claims]
            if unknown:
                raise CardError(f"sentence {text!r} links unknown claim {unknown[0]!r}; the card's claims are "
                                f"{sorted(claims)}", self.path, item.line_of("claims"))
            kinds = {claims[c].is_policy for c in linked}
            if len(kinds) > 1:
                raise CardError(f"sentence {text!r} mixes the clinic's advice with documents: split it, so the "
                                "clinic's advice is never shown under a document", self.path, line)
            sentences.append(Sentence(text, tuple(dict.fromkeys(linked)), kinds == {True}, line))
        policy_seen = False
        for sentence in sentences:
            if policy_seen and not sentence.policy:
                raise CardError(f"{where}: put the clinic's advice after the documents' sentences (it is shown "
                                "last, as 'The clinic's advice: ...')", self.path, sentence.line)
            policy_seen = policy_seen or sentence.policy
        words = word_count(text_of(sentences))
        if max_words is not None and words > max_words:
            raise CardError(f"{where} has {words} words; keep it to {max_words}", self.path, mapping.line_of(key))
        return tuple(sentences)

    def quotes(self, raw: object, line: int, known_sources: set[str], where: str) -> tuple[Quote, ...]:
        if not isinstance(raw, LineList) or not raw:
            raise CardError(f'{where} has no quotes: add `quotes: [{{source: <id>, quote: "<verbatim text>"}}]`',
                            self.path, line)
        quotes = []
        for index, item in enumerate(raw):
            item_line = raw.line_of(index)
            if not isinstance(item, LineDict) or not isinstance(item.get("source"), str) \
                    or not isinstance(item.get("quote"), str):
                raise CardError(f"each quote of {where} needs `source:` and `quote:`", self.path, item_line)
            if item["source"] not in known_sources:
                raise CardError(f"unknown source {item['source']!r}; use an id from "
                                f"knowledge/sources/manifest.yml: {sorted(known_sources)}", self.path,
                                item.line_of("source"))
            if word_count(item["quote"]) < MIN_QUOTE_WORDS:
                raise CardError(f"quote {item['quote']!r} is too short to ground anything (at least "
                                f"{MIN_QUOTE_WORDS} words)", self.path, item.line_of("quote"))
            quotes.append(Quote(item["source"], item["quote"], item.line_of("quote")))
        return tuple(quotes)

    def claims(self, data: LineDict, known_sources: set[str], policies: set[str]) -> dict[str, ClaimSpec]:
        raw = data["claims"]
        if not isinstance(raw, LineList) or not raw:
            raise CardError("claims must list the card's statements with their quotes", self.path,
                            data.line_of("claims"))
        claims: dict[str, ClaimSpec] = {}
        for index, item in enumerate(raw):
            line = raw.line_of(index)
            claim_id = item.get("id") if isinstance(item, LineDict) else None
            if not isinstance(claim_id, str) or not _CLAIM_ID.match(claim_id):
                raise CardError("each claim needs an `id:` (lowercase letters, digits, _) that sentences link to",
                                self.path, line)
            if claim_id in claims:
                raise CardError(f"duplicate claim id {claim_id!r}", self.path, item.line_of("id"))
            if item.get("source") == CLINIC_POLICY:
                if set(item) - {"id", "source", "policy"} or item.get("policy") not in policies:
                    raise CardError(f"a clinic_policy claim needs only `policy:`, one of {sorted(policies)} "
                                    "(knowledge/clinic_policy.yml)", self.path, item.line_of("policy"))
                claims[claim_id] = ClaimSpec(claim_id, "", (), item["policy"], line)
                continue
            if set(item) - {"id", "text", "quotes"} or not isinstance(item.get("text"), str):
                raise CardError("each claim needs `id:`, `text:` and `quotes:` (or `source: clinic_policy` and "
                                "`policy:`)", self.path, line)
            if "quotes" not in item:
                raise CardError("claim has no quotes", self.path, line)
            quotes = self.quotes(item["quotes"], item.line_of("quotes"), known_sources, f"claim {claim_id}")
            claims[claim_id] = ClaimSpec(claim_id, " ".join(item["text"].split()), quotes, None, line)
        return claims


def load_card(path: Path, known_sources: set[str], forbidden_names: list[str], policies: set[str]) -> CardSpec:
    """Parse and validate one card file."""
    data = load_yaml(path, CardError)
    if not isinstance(data, LineDict):
        raise CardError("a card must be a YAML mapping (id, title, answer, claims, ...)", path, 1)
    unknown = sorted(set(data) - _CARD_KEYS)
    if unknown:
        raise CardError(f"unknown field {unknown[0]!r}; allowed fields: {sorted(_CARD_KEYS)}", path,
                        data.line_of(unknown[0]))
    for key in _REQUIRED:
        if key not in data:
            hint = " (write `null  # pending clinical review` until the clinic reviews it)" if "review" in key else ""
            raise CardError(f"card has no `{key}`{hint}", path, data.line)
    lines: dict[str, int] = {key: data.line_of(key) for key in data}
    read = _Reader(path, forbidden_names)
    card_id = read.text(data, "id", "id", prose=False)
    if card_id != path.stem:
        raise CardError(f"id {card_id!r} must match the file name ({path.stem}.yml)", path, lines["id"])
    claims = read.claims(data, known_sources, policies)
    answer = read.sentences(data, "answer", "answer", claims, ANSWER_MAX_WORDS)
    detail = read.sentences(data, "detail", "detail", claims, DETAIL_MAX_WORDS)
    variants = _variants(data, read, claims, answer, lines)
    follow_ups = data["follow_ups"]
    if not isinstance(follow_ups, LineList) or not 1 <= len(follow_ups) <= 3 \
            or not all(isinstance(f, str) for f in follow_ups):
        raise CardError("follow_ups must list 1 to 3 card ids", path, lines["follow_ups"])
    if card_id in follow_ups:
        raise CardError("a card cannot follow up to itself", path, lines["follow_ups"])
    for index in range(len(follow_ups)):
        lines[f"follow_ups.{index}"] = follow_ups.line_of(index)
    key_facts = data["key_facts"]
    if not isinstance(key_facts, LineList) or not key_facts or not all(isinstance(k, str) for k in key_facts):
        raise CardError("key_facts must list the phrases the answer must contain", path, lines["key_facts"])
    answer_plain = normalise(text_of(answer)).lower()
    for index, fact in enumerate(key_facts):
        if fact != fact.lower():
            raise CardError(f"key fact {fact!r} must be lowercase", path, key_facts.line_of(index))
        if normalise(fact) not in answer_plain:
            raise CardError(f"the answer does not contain the key fact {fact!r}", path, key_facts.line_of(index))
    disagreement = _disagreement(data, read, claims, known_sources)
    reviewed_by = optional_name(data["reviewed_by"], path, lines["reviewed_by"], "reviewed_by")
    reviewed_on = optional_date(data["reviewed_on"], path, lines["reviewed_on"], "reviewed_on")
    if (reviewed_by is None) != (reviewed_on is None):
        raise CardError("reviewed_by and reviewed_on go together (both set, or both null)", path,
                        lines["reviewed_by"])
    card = CardSpec(card_id, read.text(data, "title", "title"), read.text(data, "question", "question"),
                    read.text(data, "intent", "intent", prose=False), answer, detail, variants,
                    tuple(follow_ups), tuple(key_facts), tuple(claims.values()), disagreement, reviewed_by,
                    reviewed_on, path, lines)
    used = {c for sentences in card.sections().values() for s in sentences for c in s.claims}
    for claim in card.claims:
        if claim.id not in used:
            raise CardError(f"claim {claim.id!r} backs no sentence: link it from a sentence or remove it", path,
                            claim.line)
    return card


def _variants(data: LineDict, read: _Reader, claims: Mapping[str, ClaimSpec], answer: tuple[Sentence, ...],
              lines: dict[str, int]) -> tuple[VariantSpec, ...]:
    path = read.path
    raw = data.get("variants") or LineDict()
    if not isinstance(raw, LineDict):
        raise CardError("variants must be a mapping of insertional/midportion/chronic/mild", path,
                        lines.get("variants"))
    variants = []
    for name, body in raw.items():
        line = raw.line_of(name)
        if name not in VARIANT_NAMES:
            raise CardError(f"variant {name!r} is not one of {list(VARIANT_NAMES)}", path, line)
        if not isinstance(body, LineDict) or len({"replace", "add"} & set(body)) != 1 \
                or set(body) - {"replace", "add", "detail"}:
            raise CardError(f"variant {name!r} needs exactly one of `replace:` or `add:` (and may have "
                            "`detail:`)", path, line)
        mode = "replace" if "replace" in body else "add"
        limit = ANSWER_MAX_WORDS if mode == "replace" else COMPOSED_MAX_WORDS - word_count(text_of(answer))
        sentences = read.sentences(body, mode, f"variant {name}", claims, limit)
        detail = read.sentences(body, "detail", f"variant {name} detail", claims, DETAIL_MAX_WORDS) \
            if "detail" in body else None
        variants.append(VariantSpec(name, mode, sentences, detail, line))
        lines[f"variants.{name}"] = line
    variant_map = {v.name: (v.mode, v.sentences) for v in variants}
    for kind in (None, *TYPE_VARIANTS):
        for severity in (None, *SEVERITY_VARIANTS):
            composed, _ = compose(answer, variant_map, kind, severity)
            if word_count(text_of(composed)) > COMPOSED_MAX_WORDS:
                raise CardError(f"the answer for {kind or 'any type'} / {severity or 'any severity'} has "
                                f"{word_count(text_of(composed))} words; keep it to {COMPOSED_MAX_WORDS}", path,
                                lines.get("variants", lines["answer"]))
    return tuple(variants)


def _disagreement(data: LineDict, read: _Reader, claims: Mapping[str, ClaimSpec],
                  known_sources: set[str]) -> DisagreementSpec | None:
    raw = data.get("disagreement")
    if raw is None:
        return None
    path, line = read.path, data.line_of("disagreement")
    if not isinstance(raw, LineDict) or "note" not in raw or "sides" not in raw:
        raise CardError("disagreement needs `note:` and `sides:`", path, line)
    note = read.sentences(raw, "note", "disagreement note", claims, None)
    if any(s.policy for s in note):
        raise CardError("a disagreement note states what the documents say, not the clinic's advice", path, line)
    sides = read.quotes(raw["sides"], raw.line_of("sides"), known_sources, "disagreement")
    side_sources = {side.source for side in sides}
    if len(side_sources) < 2:
        raise CardError("a disagreement needs sides from at least two different sources", path,
                        raw.line_of("sides"))
    note_sources = {q.source for s in note for c in s.claims for q in claims[c].quotes}
    if note_sources != side_sources:
        raise CardError(f"the note's claims cite {sorted(note_sources)} but the sides quote "
                        f"{sorted(side_sources)}: the note must state exactly what each side says", path,
                        raw.line_of("note"))
    return DisagreementSpec(note, sides, line)
