"""Delivery address validation, shared by both themes (which only name the fields differently)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

COUNTRIES: dict[str, str] = {
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "AT": "Austria",
    "BE": "Belgium",
    "ES": "Spain",
    "IT": "Italy",
}
ADDRESS_FIELDS: tuple[str, ...] = ("email", "full_name", "address1", "city", "postcode", "country")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_POSTCODE = re.compile(r"^[A-Za-z0-9 -]{3,10}$")
_MAX_LENGTH = 120


@dataclass(frozen=True)
class Address:
    """A validated delivery address."""

    email: str
    full_name: str
    address1: str
    city: str
    postcode: str
    country: str

    def to_session(self) -> dict[str, str]:
        """Plain dict for the cookie session."""
        return asdict(self)


def validate_address(form: Mapping[str, str]) -> tuple[Address | None, dict[str, str]]:
    """Check the six address fields; returns the address, or None and field -> error text."""
    values = {name: form.get(name, "").strip() for name in ADDRESS_FIELDS}
    errors: dict[str, str] = {}
    if not _EMAIL.match(values["email"]) or len(values["email"]) > _MAX_LENGTH:
        errors["email"] = "Enter a valid email address, like name@example.com"
    if not values["full_name"] or len(values["full_name"]) > _MAX_LENGTH:
        errors["full_name"] = "Enter your full name"
    if not values["address1"] or len(values["address1"]) > _MAX_LENGTH:
        errors["address1"] = "Enter your street address"
    if not values["city"] or len(values["city"]) > _MAX_LENGTH:
        errors["city"] = "Enter your town or city"
    if not _POSTCODE.match(values["postcode"]):
        errors["postcode"] = "Enter a valid postcode"
    if values["country"] not in COUNTRIES:
        errors["country"] = "Choose a country from the list"
    if errors:
        return None, errors
    return Address(**values), {}


def address_from_session(data: object) -> Address | None:
    """Rebuild a previously validated address from the session, if one is there."""
    if not isinstance(data, dict):
        return None
    address, errors = validate_address({k: v for k, v in data.items() if isinstance(v, str)})
    return None if errors else address
