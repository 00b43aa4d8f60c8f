"""Amounts as shops print them, and the discount rules, on tables of cases."""

from __future__ import annotations

import pytest

from checkout_monitor.config.sandbox_cards import looks_real, luhn_valid
from checkout_monitor.config.storefront_profile import DiscountCode
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.shop.discount_rules import (
    DiscountOutcome,
    expected_discount,
    judge_refused_code,
    judge_valid_code,
)
from checkout_monitor.shop.money import format_money, parse_money, percent_of
from checkout_monitor.step_failures import CheckFailed


@pytest.mark.parametrize(
    ("text", "decimals", "minor"),
    [
        ("€24.00", 2, 2400),
        ("Total €1,234.56", 2, 123456),
        ("1.234,56 €", 2, 123456),
        ("24,00\u00a0€", 2, 2400),
        ("-€2.40", 2, -240),
        ("\u2212 €10.00", 2, -1000),
        ("$5", 2, 500),
        ("¥1,200", 0, 1200),
        ("CHF 1'250.50", 2, 125050),
        ("12.345 KWD", 3, 12345),
    ],
)
def test_parse_money(text: str, decimals: int, minor: int) -> None:
    assert parse_money(text, decimals) == minor


def test_parse_money_without_an_amount() -> None:
    with pytest.raises(ValueError, match="no amount"):
        parse_money("Free!")


@pytest.mark.parametrize(
    ("minor", "percent", "off"), [(2400, 10, 240), (2405, 10, 241), (2404, 10, 240), (999, 15, 150)]
)
def test_percent_rounds_half_up(minor: int, percent: float, off: int) -> None:
    assert percent_of(minor, percent) == off


def test_format_money() -> None:
    assert (format_money(2160), format_money(-5, 2), format_money(1200, 0)) == (
        "21.60",
        "-0.05",
        "1200",
    )


def _outcome(accepted: bool, before: int, after: int, line: bool = True) -> DiscountOutcome:
    return DiscountOutcome("CODE", accepted, "message", before, before, after, line)


SAVE10 = DiscountCode(code="SAVE10", percent_off=10)
TENOFF = DiscountCode(code="TENOFF", amount_off=10)

VALID_CASES = [
    # (rule, outcome, failure kind or None)
    (SAVE10, _outcome(True, 2400, 2160), None),
    (TENOFF, _outcome(True, 2400, 1400), None),
    (TENOFF, _outcome(True, 800, 0), None),  # never below zero
    (SAVE10, _outcome(False, 2400, 2400), FailureKind.DISCOUNT_REJECTED),
    (SAVE10, _outcome(True, 2400, 2200), FailureKind.DISCOUNT_WRONG_AMOUNT),
    (SAVE10, _outcome(True, 2400, 2160, line=False), FailureKind.ASSERTION),
]


@pytest.mark.parametrize(("rule", "outcome", "kind"), VALID_CASES)
def test_valid_codes(
    rule: DiscountCode, outcome: DiscountOutcome, kind: FailureKind | None
) -> None:
    if kind is None:
        assert "off)" in judge_valid_code(rule, outcome, 2, expect_line=True)
    else:
        with pytest.raises(CheckFailed) as caught:
            judge_valid_code(rule, outcome, 2, expect_line=True)
        assert caught.value.kind is kind


def test_wrong_amount_message_has_the_numbers() -> None:
    with pytest.raises(CheckFailed) as caught:
        judge_valid_code(SAVE10, _outcome(True, 2400, 2200), 2, expect_line=True)
    assert caught.value.message == (
        "SAVE10 should take 2.40 off a subtotal of 24.00 (total 24.00 -> 21.60), "
        "but the cart shows a total of 22.00"
    )


@pytest.mark.parametrize(
    ("outcome", "refused"),
    [
        (_outcome(False, 2400, 2400), True),
        (_outcome(True, 2400, 2160), False),
        (_outcome(False, 2400, 2000), False),
    ],
)
def test_must_reject_codes(outcome: DiscountOutcome, refused: bool) -> None:
    if refused:
        assert judge_refused_code(outcome, 2).startswith("CODE refused")
    else:
        with pytest.raises(CheckFailed) as caught:
            judge_refused_code(outcome, 2)
        assert caught.value.kind is FailureKind.ASSERTION


def test_expected_discount_in_a_currency_without_minor_units() -> None:
    assert expected_discount(DiscountCode(code="X", amount_off=500), 1200, 0) == 500


@pytest.mark.parametrize(
    ("number", "luhn", "real"),
    [
        ("4242 4242 4242 4242", True, False),
        ("4000-0000-0000-0002", True, False),
        ("4929123456789015", True, True),
        ("4929123456789012", False, False),
        ("1234", False, False),
    ],
)
def test_card_numbers(number: str, luhn: bool, real: bool) -> None:
    assert (luhn_valid(number), looks_real(number)) == (luhn, real)
