"""The staff console's Cards page: every card with its review status and each sentence's sources, read-only."""
from __future__ import annotations

import re

import pytest

from bot.topics import TOPIC_INTENTS
from knowledge import answers
from tests.staff.conftest import app, as_staff, cheap_password_hashing, login, staff_db  # noqa: F401 - fixtures


@pytest.fixture
def kb_env(kb_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CLINIC_KB_DATABASE_URL", kb_url)
    answers.reset_cache()
    return kb_url


def test_cards_page_lists_every_card_with_review_status_and_sentence_sources(as_staff, kb_env) -> None:  # noqa: ANN001, F811
    response = as_staff.get("/staff/cards")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for card_id in TOPIC_INTENTS.values():
        assert f'id="card-{card_id}"' in html and f'id="sentences-{card_id}"' in html
    assert html.count("pending clinical review") >= len(TOPIC_INTENTS)  # nobody has signed a card off yet
    rupture = html[html.index('id="sentences-rupture"'):]
    rupture = rupture[: rupture.index("</section>")]
    assert "Keystone Physical Therapy</strong>: “Inability to push off the foot or stand on tiptoe" in rupture
    assert re.search(r"The clinic(&#39;|')s advice</span> <code>rupture_now</code>", rupture)
    assert 'id="policy-red_flags_today"' in html and "pending approval" in html
    assert 'href="/staff/cards"' in html  # in the top menu


def test_cards_page_is_read_only_and_needs_a_login(app, as_staff, kb_env) -> None:  # noqa: ANN001, F811
    assert app.test_client().get("/staff/cards").status_code == 302  # to the login form
    assert as_staff.post("/staff/cards", {}).status_code == 405
    assert "<form" not in as_staff.get("/staff/cards").get_data(as_text=True).split("</header>")[1]


def test_a_missing_knowledge_base_is_a_clear_503(as_staff, tmp_path, monkeypatch) -> None:  # noqa: ANN001, F811
    monkeypatch.setenv("CLINIC_KB_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    response = as_staff.get("/staff/cards")
    assert response.status_code == 503 and "make kb" in response.get_data(as_text=True)
