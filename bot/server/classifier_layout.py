"""Start-up patch: keep the intent classifier's weights in the memory order its sparse product reads them.

What Rasa does: `LogisticRegressionClassifier.process` (Rasa 3.6) calls scikit-learn's `predict_proba`, which
computes `X @ coef_.T` with X sparse (CSR). scipy's CSR x dense product needs the dense side as one
C-ordered block (`other.ravel()` in `_mul_multivector`); `coef_` is stored C-ordered (classes x features),
so its transpose is not, and every message copies the whole weight matrix (29 intents x all word and
character n-gram features): about 8% of the Rasa server's busy samples under load (py-spy, 32 concurrent;
docs/scaling.md).

What the clinic needs: the same probabilities. After Rasa loads the classifier, `coef_` is stored once in
Fortran order (same shape and values), so `coef_.T` is already C-ordered and `ravel()` returns a view: the
product reads the same numbers in the same order, bit for bit (scipy's `csr_matvecs` loop does not change).
Nothing else of the model changes; training builds a new classifier and is not affected.

Test: tests/unit/test_classifier_layout.py (the clinic model's classifier: Fortran-ordered weights, the same
probabilities bit for bit as the C-ordered weights on the clinic's own messages).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

_original_load = LogisticRegressionClassifier.load.__func__  # the classmethod's function


def weights_for_sparse_product(component: Any) -> Any:
    """Store the loaded classifier's `coef_` in Fortran order (same values); return the component."""
    classifier = getattr(component, "clf", None)
    coef = getattr(classifier, "coef_", None)
    if isinstance(coef, np.ndarray) and coef.ndim == 2 and not coef.flags.f_contiguous:
        classifier.coef_ = np.asfortranarray(coef)
    return component


def _load(cls: type, *args: Any, **kwargs: Any) -> Any:
    return weights_for_sparse_product(_original_load(cls, *args, **kwargs))


def apply() -> None:
    """Wrap LogisticRegressionClassifier.load (subclasses such as the clinic's inherit it)."""
    LogisticRegressionClassifier.load = classmethod(_load)  # type: ignore[method-assign,assignment]


__all__ = ["apply", "weights_for_sparse_product"]
