"""The clinic's documents: the manifest, web-debris cleaning, and passages with offsets into the original."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from knowledge.errors import SourceError
from knowledge.yaml_lines import LineDict, LineList, load_yaml

MANIFEST_NAME = "manifest.yml"
KINDS = {"clinic_article", "clinic_blog"}
MAX_PASSAGE_WORDS = 75  # a passage is a few sentences: long enough to answer, short enough to quote
HEADING_MAX_WORDS = 12

# Whole lines that are page furniture, not content (matched against the line without bullets/emoji).
DEBRIS_LINES = [
    re.compile(r"(?i)(top|bottom) of page"),
    re.compile(r"(?i)(written|posted) by\b.*"),  # author lines
    re.compile(r"(?i)\S.*\.(jpe?g|png|gif|webp|svg)"),  # image file names
    re.compile(r"(?i)read more"),
    re.compile(r"(?i)\d+ (second|minute|hour|day|week|month|year)s? ago"),
    re.compile(r"(?i)\d+ min(ute)?s? read"),
    re.compile(r"[-|:\s]+"),  # table rules and stray punctuation
    re.compile(r"(?i)(share|tweet|print|comments?|tags?:.*)"),
]
BYLINE_META = re.compile(r"(?i)\d+ (second|minute|hour|day|week|month|year)s? ago|\d+ min(ute)?s? read")
HANDLE = re.compile(r"[A-Za-z0-9_.]{3,32}")  # an author handle such as "amy45210" next to "4 hours ago"
# "Previous" / "Next" start the blog footer: it and everything after it link to other articles.
FOOTER_START = re.compile(r"(?i)(previous|next)( (post|article))?")
TRAILING_DEBRIS = re.compile(r"\s*\bRead More\s*$")
TABLE_ROW = re.compile(r"\|.*\|")
BULLET_MARK = re.compile(r"^[ \t]*(?:[•●▪◦*\-–]|\d+[.)])[ \t]+")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“(A-Z0-9])")
# Marketing sentences are stored but never retrieved as answers (the bot is not another clinic's advert).
PROMOTIONAL = re.compile(
    r"(?i)\b(book (a|an|your)\b|schedule an|free consultation|reach out to us|trust us|we believe|"
    r"committed to|our commitment|premier|customers?\b|customer service|sponsorships?|"
    r"we take pride|you deserve|dedicated to helping)"
)


@dataclass(frozen=True)
class SourceDoc:
    """One document of the manifest, with its full original text."""

    id: str
    file: str
    title: str
    publisher: str
    kind: str
    text: str
    names: tuple[str, ...]
    position: int
    debris: tuple[str, ...] = ()


@dataclass(frozen=True)
class PassageSpan:
    """A few sentences of a source; text == source.text[start:end]."""

    id: str
    source_id: str
    position: int
    start: int
    end: int
    heading: str
    text: str
    promotional: bool


@dataclass
class _Unit:
    start: int
    end: int
    kind: str  # heading | bullet | text
    promotional: bool
    after_gap: bool = False  # debris was dropped just before it: a passage must not span the gap

    def words(self, text: str) -> int:
        return len(text[self.start : self.end].split())


def load_manifest(sources_dir: Path) -> list[SourceDoc]:
    """Read sources_dir/manifest.yml and every file it lists; errors name the manifest line."""
    path = sources_dir / MANIFEST_NAME
    if not path.is_file():
        raise SourceError(
            "no manifest: list the clinic's documents in it (see knowledge/README_SECTION.md)", path
        )
    data = load_yaml(path, SourceError)
    if not isinstance(data, LineDict) or not isinstance(data.get("sources"), LineList):
        raise SourceError("the manifest needs a `sources:` list", path, getattr(data, "line", 1))
    docs: list[SourceDoc] = []
    seen: set[str] = set()
    for index, entry in enumerate(data["sources"]):
        line = data["sources"].line_of(index)
        if not isinstance(entry, LineDict):
            raise SourceError(
                "each source must be a mapping with id, file, title, publisher, kind", path, line
            )
        for key in ("id", "file", "title", "publisher", "kind"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise SourceError(f"source has no `{key}` (a non-empty string)", path, entry.line)
        source_id = entry["id"]
        if not re.fullmatch(r"[a-z0-9_]{3,64}", source_id):
            raise SourceError(
                f"source id {source_id!r} must be a lowercase slug (a-z, 0-9, _)", path, entry.line_of("id")
            )
        if source_id in seen:
            raise SourceError(f"duplicate source id {source_id!r}", path, entry.line_of("id"))
        seen.add(source_id)
        if entry["kind"] not in KINDS:
            raise SourceError(
                f"kind {entry['kind']!r} is not one of {sorted(KINDS)}", path, entry.line_of("kind")
            )
        file = sources_dir / entry["file"]
        if not file.is_file():
            raise SourceError(
                f"source file {entry['file']!r} does not exist in {sources_dir}", path, entry.line_of("file")
            )
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(f"not UTF-8 text ({exc}); save it as UTF-8", file) from exc
        if not text.strip():
            raise SourceError("the document is empty", file)
        names = entry.get("names") or []
        debris = entry.get("debris") or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SourceError("`names` must be a list of strings", path, entry.line_of("names"))
        if not isinstance(debris, list) or not all(isinstance(d, str) for d in debris):
            raise SourceError("`debris` must be a list of strings", path, entry.line_of("debris"))
        docs.append(
            SourceDoc(
                source_id,
                entry["file"],
                entry["title"].strip(),
                entry["publisher"].strip(),
                entry["kind"],
                text,
                tuple(names),
                index,
                tuple(d.strip() for d in debris),
            )
        )
    if not docs:
        raise SourceError("the manifest lists no sources", path, data.line)
    return docs


def _content_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim whitespace, bullet marks and emoji from the front, whitespace and 'Read More' from the back."""
    while start < end and (text[start].isspace() or _is_symbol(text[start])):
        start += 1
    match = BULLET_MARK.match(text[start:end])
    if match and not re.match(r"\d", text[start]):  # keep "1." numbering, drop bullet glyphs
        start += match.end()
    trailing = TRAILING_DEBRIS.search(text, start, end)
    if trailing and trailing.end() == end:
        end = trailing.start()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_symbol(char: str) -> bool:
    return char in "•●▪◦" or unicodedata.category(char) in {"So", "Sk", "Mn", "Cf"}


def _lines(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((pos, pos + len(line.rstrip("\r\n"))))
        pos += len(line)
    return spans


def clean_units(doc: SourceDoc) -> list[_Unit]:
    """The content lines of doc (debris dropped), long lines split into sentences; offsets into doc.text."""
    text = doc.text
    names = re.compile("|".join(re.escape(n) for n in doc.names)) if doc.names else None
    extra = set(doc.debris)
    raw = _lines(text)
    units: list[_Unit] = []
    seen_paragraphs: set[str] = set()
    gap = False
    for index, (line_start, line_end) in enumerate(raw):
        start, end = _content_bounds(text, line_start, line_end)
        if start >= end:
            continue
        content = text[start:end]
        if FOOTER_START.fullmatch(content):
            break
        if content in extra or TABLE_ROW.search(content) or any(p.fullmatch(content) for p in DEBRIS_LINES):
            gap = True
            continue
        if HANDLE.fullmatch(content) and _next_is_byline(text, raw, index):
            gap = True
            continue
        normalised = " ".join(content.split()).lower()
        if len(normalised.split()) >= 8:
            if normalised in seen_paragraphs:
                gap = True
                continue  # the same paragraph pasted twice (a page's summary repeated as its conclusion)
            seen_paragraphs.add(normalised)
        indented = line_start < len(text) and text[line_start] in " \t"
        bulleted = bool(BULLET_MARK.match(text[line_start:line_end]))
        words = len(content.split())
        if bulleted or indented:
            kind = "bullet"
        elif words <= HEADING_MAX_WORDS and not content.endswith((".", "!", '"', "”")):
            kind = "heading"
        else:
            kind = "text"
        for s_start, s_end in _sentences(text, start, end):
            snippet = text[s_start:s_end]
            promo = bool(PROMOTIONAL.search(snippet) or (names and names.search(snippet)))
            units.append(_Unit(s_start, s_end, kind, promo, gap))
            gap = False
        if TRAILING_DEBRIS.search(text[line_start:line_end]):
            gap = True  # "Read More" was cut off the end of this line: the next passage starts after it
    return units


def _next_is_byline(text: str, raw: list[tuple[int, int]], index: int) -> bool:
    for line_start, line_end in raw[index + 1 :]:
        start, end = _content_bounds(text, line_start, line_end)
        if start < end:
            return bool(BYLINE_META.fullmatch(text[start:end]))
    return False


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a line into sentence spans (only lines long enough to need it)."""
    if len(text[start:end].split()) <= 25:
        return [(start, end)]
    spans, cursor = [], start
    for match in SENTENCE_END.finditer(text, start, end):
        cut = match.start()
        while cut < match.end() and not text[cut].isspace():
            cut += 1  # keep a closing quote or bracket with its sentence
        spans.append((cursor, cut))
        cursor = match.end()
    spans.append((cursor, end))
    return [(s, e) for s, e in spans if e > s]


def split_passages(doc: SourceDoc) -> list[PassageSpan]:
    """Group content units into passages: a heading opens one, ~75 words close one, marketing stays apart."""
    text = doc.text
    groups: list[list[_Unit]] = []
    heading_of: list[str] = []
    current: list[_Unit] = []
    heading = doc.title

    def close() -> None:
        nonlocal current
        if current and any(u.kind != "heading" for u in current):  # a heading alone is not a passage
            groups.append(current)
            heading_of.append(heading)
        current = []

    for unit in clean_units(doc):
        only_headings = all(u.kind == "heading" for u in current)
        if unit.after_gap:
            close()
        elif unit.kind == "heading" and current and not only_headings:
            close()
        elif current and unit.promotional != current[-1].promotional:
            close()
        elif (
            current
            and not only_headings
            and sum(u.words(text) for u in current) + unit.words(text) > MAX_PASSAGE_WORDS
        ):
            carry = []
            if len(current) > 1 and text[current[-1].start : current[-1].end].endswith(":"):
                carry = [current.pop()]  # a label ("Dry Needling:") stays with its text
            close()
            current = carry
        if unit.kind == "heading" and not current:
            heading = " ".join(text[unit.start : unit.end].split())
        current.append(unit)
    close()

    passages = []
    for position, (group, group_heading) in enumerate(zip(groups, heading_of, strict=True)):
        start, end = group[0].start, group[-1].end
        passages.append(
            PassageSpan(
                id=f"{doc.id}#{position:03d}",
                source_id=doc.id,
                position=position,
                start=start,
                end=end,
                heading=group_heading,
                text=text[start:end],
                promotional=any(u.promotional for u in group),
            )
        )
    return passages


def display_text(passage_text: str) -> str:
    """A passage as one plain paragraph: list items joined, numbering and bullets dropped."""
    parts: list[str] = []
    for raw_line in passage_text.splitlines():
        line = BULLET_MARK.sub("", raw_line).strip()
        line = "".join(ch for ch in line if not _is_symbol(ch)).strip()
        line = TRAILING_DEBRIS.sub("", line)
        if not line:
            continue
        if re.fullmatch(r"\(.*\d{4}\)", line) and parts:  # a trailing citation "(Author, 2021)"
            parts[-1] = parts[-1].rstrip(".;") + f" {line}."
            continue
        if not re.search(r"[.!?:;,]$", line):
            line += "."
        parts.append(line)
    return " ".join(parts)
