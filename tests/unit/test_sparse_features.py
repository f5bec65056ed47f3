"""Start-up patch bot/server/sparse_features.py: the same combined sparse features as Rasa's own function."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse import random as sparse_random

from bot.server import sparse_features
from bot.server.patches import PATCHES

ORIGINAL = sparse_features._original_combine


def assert_same(ours: Features | None, theirs: Features | None) -> None:
    if theirs is None:
        assert ours is None
        return
    assert type(ours) is type(theirs)
    assert (ours.type, ours.attribute, ours.origin, ours._cached_fingerprint) == (
        theirs.type, theirs.attribute, theirs.origin, theirs._cached_fingerprint)
    a, b = ours.features, theirs.features
    assert type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
    if isinstance(b, coo_matrix):
        for name in ("data", "row", "col"):
            assert getattr(a, name).dtype == getattr(b, name).dtype, name
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert (a != b).nnz == 0


def _features(matrix, origin: str, kind: str = "sequence") -> Features:
    return Features(matrix, kind, "text", origin)


def test_registered():
    assert "bot.server.sparse_features:apply" in PATCHES


@pytest.mark.parametrize("seed", range(6))
def test_random_coo_parts_join_as_rasa_joins_them(seed):
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 12))
    dtypes = [np.float64, np.float32, np.int64]
    parts = [_features(sparse_random(rows, int(rng.integers(1, 300)), density=float(rng.uniform(0, 0.3)),
                                     format="coo", dtype=dtypes[(seed + k) % 3], random_state=seed + k),
                       f"featurizer_{k}") for k in range(int(rng.integers(2, 6)))]
    featurizers = [f"featurizer_{k}" for k in range(len(parts))]
    assert_same(sparse_features.combine_features(parts, featurizers), ORIGINAL(parts, featurizers))
    assert all(type(p.features) is coo_matrix for p in parts)  # the parts are left alone


def test_other_cases_take_rasas_path():
    one = [_features(coo_matrix(np.eye(3)), "a")]
    assert_same(sparse_features.combine_features(one, []), ORIGINAL(one, []))
    assert sparse_features.combine_features([], []) is None
    mixed = [_features(coo_matrix(np.eye(3)), "a"), _features(csr_matrix(np.ones((3, 2))), "b")]
    assert_same(sparse_features.combine_features(mixed, []), ORIGINAL(mixed, []))
    mismatched = [_features(coo_matrix(np.eye(3)), "a"), _features(coo_matrix(np.ones((2, 2))), "b")]
    with pytest.raises(ValueError, match="Cannot combine sparse features"):
        sparse_features.combine_features(mismatched, [])


def test_clinic_model_messages_combine_identically():
    """Record what the clinic's own pipeline asks to combine, then compare ours and Rasa's on each."""
    from rasa.core.agent import Agent

    from bot.build import MODEL_FILE

    if not MODEL_FILE.is_file():
        pytest.skip("no trained model (make build)")
    agent = Agent.load(str(MODEL_FILE))
    recorded: list[tuple[list[Features], list[str]]] = []

    def recorder(features, featurizers):
        recorded.append((list(features), featurizers))
        return ORIGINAL(features, featurizers)

    saved = Message.__dict__["_combine_features"]
    texts = ["do heel lifts help?", "can i keep running with achilles pain", "hi", "thanks!",
             "my calf suddenly popped and i cannot walk", "¿puedo seguir corriendo?", "跟腱痛可以跑步吗"]
    try:
        Message._combine_features = staticmethod(recorder)
        theirs = [asyncio.run(agent.parse_message(text)) for text in texts]
        Message._combine_features = staticmethod(sparse_features.combine_features)
        ours = [asyncio.run(agent.parse_message(text)) for text in texts]
    finally:
        Message._combine_features = saved
    fast = 0
    for features, featurizers in recorded:
        fast += len(features) > 1 and all(type(f.features) is coo_matrix for f in features)
        assert_same(sparse_features.combine_features(features, featurizers), ORIGINAL(features, featurizers))
    assert fast >= len(texts)  # the one-step join is what the clinic's pipeline actually uses
    for a, b in zip(ours, theirs, strict=True):
        assert a["intent"] == b["intent"] and a["intent_ranking"] == b["intent_ranking"]
        assert a["entities"] == b["entities"]
