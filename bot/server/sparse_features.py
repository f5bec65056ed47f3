"""Start-up patch: join a message's sparse features in one step, not one scipy `hstack` per featurizer.

What Rasa does: `Message._combine_features` (rasa/shared/nlu/training_data/message.py, Rasa 3.6) deep-copies
the first featurizer's `Features`, then joins each further one with `scipy.sparse.hstack` (through `bmat`: a
validation pass, a COO conversion and new arrays each time). The clinic pipeline has four sparse featurizers
(regex, lexical-syntactic, two count vectors); the intent classifier asks for the combined features twice per
message, sequence and sentence each time: about 10 hstacks and 10% of the Rasa server's busy samples under
load (py-spy, 32 concurrent; docs/scaling.md).

What the clinic needs: the same combined `Features`. When every part is a COO matrix with the same number of
rows (what the clinic's featurizers make), the result is built as `bmat` builds it: data, rows and columns
(each shifted by the widths before it) concatenated in featurizer order, dtype the upcast of all parts, index
dtype from the final shape, returned as COO. That is exactly the pairwise result, since each pairwise step
appends the next part's entries in the same way. A shallow copy of the first `Features` takes the joined matrix
and Rasa's `origin` (the featurizers list) as the deep copy would. Anything else (one part, dense or CSR
parts, mismatched rows, empty shapes, which Rasa reports with its ValueError) goes through Rasa's own code.

Test: tests/unit/test_sparse_features.py (identical data, rows, columns, dtypes, shape, format and fields to
Rasa's own function, on the clinic model's real messages and on random matrices; the fallbacks).
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix
from scipy.sparse._sputils import get_index_dtype, upcast

_original_combine = Message._combine_features


def combine_features(features: list[Any], featurizers: list[str]) -> Any:
    """Rasa's `Message._combine_features`, in one step for COO parts."""
    if len(features) < 2 or not all(type(f.features) is coo_matrix for f in features):
        return _original_combine(features, featurizers)
    matrices = [f.features for f in features]
    rows = matrices[0].shape[0]
    if rows == 0 or any(m.shape[0] != rows or m.shape[1] == 0 for m in matrices):
        return _original_combine(features, featurizers)
    widths = [m.shape[1] for m in matrices]
    shape = (rows, sum(widths))
    idx_dtype = get_index_dtype(maxval=max(shape))
    dtype = upcast(*(m.dtype for m in matrices))
    data = np.concatenate([m.data.astype(dtype, copy=False) for m in matrices])
    row = np.concatenate([m.row for m in matrices]).astype(idx_dtype, copy=False)
    offsets = np.cumsum([0, *widths[:-1]])
    col = np.concatenate([np.add(m.col, offset, dtype=idx_dtype) for m, offset in zip(matrices, offsets, strict=True)])
    combined = copy.copy(features[0])
    combined.features = coo_matrix((data, (row, col)), shape=shape)
    combined.origin = featurizers
    combined._cached_fingerprint = None
    return combined


def apply() -> None:
    """Replace Message._combine_features with the one-step join."""
    Message._combine_features = staticmethod(combine_features)  # type: ignore[method-assign]


__all__ = ["apply", "combine_features"]
