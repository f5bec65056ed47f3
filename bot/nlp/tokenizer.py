"""Rasa's SpacyTokenizer, plus Chinese word segmentation inside runs of Han characters.

The project's spaCy pipeline is English: it keeps a Chinese phrase such as 跟腱疼的时候敷冰袋管用吗 as one token,
so the intent classifier saw Chinese only through the character n-grams of one long token, and Chinese questions
mostly fell below the fallback threshold (reports/languages/REPORT.md, section 3). Here every token that holds
Han characters is cut into words by jieba (its dictionary ships inside the package; nothing is downloaded), with
the offsets of the original text, so the word and character-n-gram featurizers see 跟腱 / 疼 / 的 / 时候 / 敷 /
冰袋 / 管用 / 吗. English tokens pass through unchanged. The red-flag detector does not use these tokens (it has
its own per-language lexicons, bot/triage/multilingual.py)."""
from __future__ import annotations

import logging
import re
import threading
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.spacy_tokenizer import POS_TAG_KEY, SpacyTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from bot.triage.multilingual_lexicon import HAN

HAN_RUN = re.compile(HAN.pattern + "+")
_segmenter: Any = None
_lock = threading.Lock()


def segmenter() -> Any:
    """One jieba tokenizer per process, its dictionary loaded on first use (about a second)."""
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _segmenter = tokenizer
    return _segmenter


def han_words(text: str) -> list[tuple[str, int]]:
    """(word, offset) for the pieces of `text`: each Han run cut into words, the rest kept as it is."""
    pieces: list[tuple[str, int]] = []
    position = 0
    for run in HAN_RUN.finditer(text):
        if run.start() > position:
            pieces.append((text[position:run.start()], position))
        offset = run.start()
        for word in segmenter().cut(run.group(), HMM=True):
            pieces.append((word, offset))
            offset += len(word)
        position = run.end()
    if position < len(text):
        pieces.append((text[position:], position))
    kept = []
    for word, start in pieces:
        stripped = word.lstrip()
        if stripped.strip():
            kept.append((stripped.rstrip(), start + len(word) - len(stripped)))
    return kept


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ClinicTokenizer(SpacyTokenizer):
    """SpacyTokenizer that also segments Chinese (config.yml uses it in place of SpacyTokenizer)."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        if not any(HAN_RUN.search(token.text) for token in tokens):
            return tokens
        split: list[Token] = []
        for token in tokens:
            if not HAN_RUN.search(token.text):
                split.append(token)
                continue
            tag = (token.data or {}).get(POS_TAG_KEY)
            for word, offset in han_words(token.text):
                split.append(Token(word, token.start + offset, lemma=word, data={POS_TAG_KEY: tag}))
        return split
