"""The judge's score from hand-written top logprobs: expectation, threshold, token normalisation."""

from __future__ import annotations

import math

import pytest

from mozoo.judge import MIN_MASS, normalise_token, read_score, token_number


def lp(p: float) -> float:
    return math.log(p)


def test_score_is_the_expectation_over_numbers_normalised_by_their_mass() -> None:
    reading = read_score([("80", lp(0.5)), ("90", lp(0.3)), ("CODE", lp(0.2))], "80")
    assert reading.method == "expectation"
    assert reading.mass == pytest.approx(0.8)
    assert reading.score == pytest.approx((80 * 0.5 + 90 * 0.3) / 0.8)


def test_numbers_above_100_and_words_are_not_scores() -> None:
    reading = read_score([("100", lp(0.4)), ("150", lp(0.3)), ("REF", lp(0.3))], "100")
    assert reading.probabilities == {100: pytest.approx(0.4)}
    assert reading.score == pytest.approx(100.0)


def test_below_the_minimum_mass_there_is_no_score() -> None:
    reading = read_score([("REFUSAL", lp(0.8)), ("0", lp(0.2))], "REFUSAL")
    assert reading.score is None and reading.method == "none"
    assert reading.mass == pytest.approx(0.2) and MIN_MASS == 0.25
    assert "no score" in reading.explain()


def test_the_threshold_is_a_parameter() -> None:
    pairs = [("REFUSAL", lp(0.8)), ("0", lp(0.2))]
    assert read_score(pairs, "", min_mass=0.1).score == pytest.approx(0.0)


def test_no_logprobs_is_no_score() -> None:
    assert read_score([], "85").score is None


@pytest.mark.parametrize("token", ["Ġ85", "▁85", " 85", "85\n", "Ċ85", "85"])
def test_space_and_newline_markers_are_stripped(token: str) -> None:
    assert normalise_token(token) == "85"
    assert token_number(token) == 85


@pytest.mark.parametrize("token", ["Ġ", "8.5", "eighty", "٣", "-5", ""])
def test_non_numbers_are_not_numbers(token: str) -> None:
    assert token_number(token) is None


def test_tokens_that_normalise_to_one_number_add_up() -> None:
    reading = read_score([("Ġ70", lp(0.3)), ("70", lp(0.2)), ("▁90", lp(0.5))], "70")
    assert reading.probabilities == {70: pytest.approx(0.5), 90: pytest.approx(0.5)}
    assert reading.score == pytest.approx(80.0)


def test_a_digit_by_digit_tokenizer_scores_the_number_written() -> None:
    # The first position holds leading digits only: "9" starts 95, "1" starts 100.
    pairs = [("9", lp(0.6)), ("1", lp(0.3)), ("Ġ", lp(0.1))]
    reading = read_score(pairs, "95")
    assert reading.method == "written_digits"
    assert reading.score == 95.0
    assert reading.mass == pytest.approx(0.9)


def test_digit_mode_still_needs_the_minimum_mass() -> None:
    assert read_score([("9", lp(0.1)), ("The", lp(0.9))], "95").score is None


def test_single_digit_answers_of_a_whole_number_tokenizer_are_an_expectation() -> None:
    # One written digit: nothing shows the tokenizer splits numbers, the digits are the values.
    reading = read_score([("0", lp(0.5)), ("5", lp(0.5))], "0")
    assert reading.method == "expectation"
    assert reading.score == pytest.approx(2.5)


def test_whole_number_tokens_next_to_digits_keep_the_expectation() -> None:
    reading = read_score([("95", lp(0.5)), ("9", lp(0.1)), ("100", lp(0.4))], "95")
    assert reading.method == "expectation"
    assert reading.score == pytest.approx((95 * 0.5 + 9 * 0.1 + 100 * 0.4) / 1.0)
