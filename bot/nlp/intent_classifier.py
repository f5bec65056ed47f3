"""Rasa's LogisticRegressionClassifier, made safe for messages without features (an empty message)."""
from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SafeLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Rasa's classifier raises on a message with no features ("" or only spaces), which loses the message.

    Such messages get no intent (confidence 0), so the FallbackClassifier sends them to the fallback action,
    which asks for a question; every other message is classified as Rasa does.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        with_features = [m for m in messages if m.get_sparse_features(attribute=TEXT)[1] is not None
                         or m.get_dense_features(attribute=TEXT)[1] is not None]
        if with_features:
            super().process(with_features)
        classified = {id(message) for message in with_features}
        for message in messages:
            if id(message) not in classified:
                message.set("intent", {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set("intent_ranking", [], add_to_output=True)
        return messages
