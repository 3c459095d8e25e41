"""Agreement between a shadow's and the primary's predictions."""

from __future__ import annotations

import math

from tfprod.runtime.gateway.shadow import Comparison, compare


def test_single_probabilities_agree_when_on_the_same_side_of_one_half() -> None:
    assert compare(b'{"predictions": [[0.7], [0.2]]}', b'{"predictions": [[0.6], [0.3]]}') == (
        Comparison(agree=True, max_abs_difference=0.09999999999999998)
    )
    assert compare(b'{"predictions": [[0.7]]}', b'{"predictions": [[0.4]]}') == Comparison(
        agree=False, max_abs_difference=0.29999999999999993
    )


def test_class_vectors_agree_when_the_argmax_matches() -> None:
    result = compare(b'{"predictions": [[0.1, 0.7, 0.2]]}', b'{"predictions": [[0.2, 0.5, 0.3]]}')
    assert result == Comparison(agree=True, max_abs_difference=0.19999999999999996)
    result = compare(b'{"predictions": [[0.1, 0.7, 0.2]]}', b'{"predictions": [[0.6, 0.3, 0.1]]}')
    assert result is not None and not result.agree


def test_named_outputs_and_columnar_answers_are_compared_by_name() -> None:
    primary = b'{"outputs": {"probability": [[0.9]], "score": [[2.0]]}}'
    shadow = b'{"outputs": {"score": [[2.5]], "probability": [[0.8]]}}'
    assert compare(primary, shadow) == Comparison(agree=True, max_abs_difference=0.5)


def test_answers_of_different_shapes_disagree() -> None:
    result = compare(b'{"predictions": [[0.9]]}', b'{"predictions": [[0.9], [0.1]]}')
    assert result == Comparison(agree=False, max_abs_difference=math.inf)


def test_non_numeric_or_non_json_answers_are_not_comparable() -> None:
    assert compare(b'{"predictions": [["a"]]}', b'{"predictions": [["a"]]}') is None
    assert compare(b"not json", b'{"predictions": [[1]]}') is None
    assert compare(b'{"error": "x"}', b'{"predictions": [[1]]}') is None
