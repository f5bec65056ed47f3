"""Chinese word segmentation in the NLU tokenizer (bot/nlp/tokenizer.py): offsets kept, English unchanged."""
from __future__ import annotations

import pytest

from bot.nlp.tokenizer import han_words


def test_a_chinese_run_is_cut_into_words_with_their_offsets():
    text = "跟腱疼的时候敷冰袋管用吗"
    words = han_words(text)
    assert [w for w, _ in words] == ["跟腱", "疼", "的", "时候", "敷", "冰袋", "管用", "吗"]
    assert all(text[start:start + len(word)] == word for word, start in words)


@pytest.mark.parametrize("text", ["鞋跟墊有冇用？heel", "achilles痛咗三個星期", "後跟墊 ok 嗎"])
def test_mixed_scripts_keep_every_character_at_its_offset(text):
    words = han_words(text)
    assert "".join(w for w, _ in words) == text.replace(" ", "")
    assert all(text[start:start + len(word)] == word for word, start in words)


def test_text_without_han_characters_is_one_piece():
    assert han_words("heel-lifts?") == [("heel-lifts?", 0)]
