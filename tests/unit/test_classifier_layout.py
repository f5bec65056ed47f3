"""Start-up patch bot/server/classifier_layout.py: the intent classifier's probabilities unchanged, bit for bit."""
from __future__ import annotations

import asyncio
import copy

import numpy as np
import pytest
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

from bot.server import classifier_layout
from bot.server.patches import PATCHES, apply_all


def test_registered():
    assert "bot.server.classifier_layout:apply" in PATCHES


def test_clinic_classifier_same_probabilities_bit_for_bit():
    from rasa.core.agent import Agent

    from bot.build import MODEL_FILE

    if not MODEL_FILE.is_file():
        pytest.skip("no trained model (make build)")
    apply_all()
    agent = Agent.load(str(MODEL_FILE))
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    components = [n._component for n in nodes if isinstance(getattr(n, "_component", None),
                                                            LogisticRegressionClassifier)]
    assert components, "the clinic pipeline has a logistic regression intent classifier"
    classifier = components[0].clf
    assert classifier.coef_.flags.f_contiguous and classifier.coef_.T.flags.c_contiguous  # the patch ran

    c_ordered = copy.deepcopy(classifier)
    c_ordered.coef_ = np.ascontiguousarray(classifier.coef_)
    assert not c_ordered.coef_.T.flags.c_contiguous  # Rasa's layout

    captured = []
    original_create_x = LogisticRegressionClassifier._create_X

    def capture(self, messages):
        x = original_create_x(self, messages)
        captured.append(x)
        return x

    LogisticRegressionClassifier._create_X = capture
    try:
        for text in ("do heel lifts help?", "can i keep running with achilles pain", "hi", "thanks!",
                     "my calf suddenly popped and i cannot walk", "what shoes are best for a sore achilles"):
            asyncio.run(agent.parse_message(text))
    finally:
        LogisticRegressionClassifier._create_X = original_create_x
    assert len(captured) >= 6
    for x in captured:
        assert np.array_equal(classifier.predict_proba(x), c_ordered.predict_proba(x))


def test_other_components_left_alone():
    class Bare:
        clf = None

    assert classifier_layout.weights_for_sparse_product(Bare()).clf is None
