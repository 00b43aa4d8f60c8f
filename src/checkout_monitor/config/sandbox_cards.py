"""Payment providers' published sandbox card numbers: the only numbers a journey may type
unless a storefront says ``allow_real_cards: true``."""

from __future__ import annotations

# Stripe, Adyen, Braintree, Mollie, PayPal and Checkout.com test cards (approve and decline).
KNOWN_TEST_CARDS = frozenset(
    {
        "4242424242424242", "4000056655665556", "5555555555554444", "2223003122003222",
        "5200828282828210", "5105105105105100", "378282246310005", "371449635398431",
        "6011111111111117", "6011000990139424", "3056930009020004", "36227206271667",
        "3566002020360505", "6200000000000005", "4000000000000002", "4000000000009995",
        "4000000000009987", "4000000000009979", "4000000000000069", "4000000000000127",
        "4000000000000119", "4000000000000101", "4000000000000341", "4000002500003155",
        "4000000000003220", "4111111111111111", "4012888888881881", "4005519200000004",
        "4009348888881881", "4012000033330026", "4012000077777777", "4217651111111119",
        "4500600000000061", "5431111111111111", "5454545454545454",
        "4444333322221111", "4988438843884305", "4166676667666746", "4646464646464644",
        "4000620000000007", "4000020000000000", "4543474002249996", "5436031030606378",
    }
)  # fmt: skip


def digits_of(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in digits_of(number)]
    if len(digits) < 12:
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 - 9 if digit > 4 else digit * 2
        total += doubled if i % 2 else digit
    return total % 10 == 0


def looks_real(number: str) -> bool:
    """A number that could charge a real card: passes the Luhn check, not a known test card."""
    return luhn_valid(number) and digits_of(number) not in KNOWN_TEST_CARDS


def mask_card(number: str) -> str:
    """Never echo a possibly real card number whole: keep the last four digits."""
    digits = digits_of(number)
    return f"card number ending {digits[-4:]}" if len(digits) >= 4 else "card number"
