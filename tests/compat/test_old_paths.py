"""Journeys written for the previous release, with its module paths, keep working for one
release and say where each name went."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import checkout_monitor
from checkout_monitor.compat.old_paths import MOVED
from checkout_monitor.run.monitors_loader import load_monitors

# The imports the previous release's payment-sandbox and discount-codes journeys had.
OLD_JOURNEY = '''
from checkout_monitor.discount_rules import judge_refused_code, judge_valid_code
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.journey import JourneyRun, journey
from checkout_monitor.money import to_minor
from checkout_monitor.step_failures import CheckFailed
from checkout_monitor.storefront import Challenge, Storefront


@journey("old-style", tags=("legacy",))
async def old_style(run: JourneyRun) -> None:
    """Written against 0.1."""
    names = (judge_refused_code, judge_valid_code, to_minor, Challenge, Storefront)
    assert all(names)
    raise CheckFailed(FailureKind.JOURNEY_ERROR, "not meant to run")
'''


def _run(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )


PACKAGE = Path(checkout_monitor.__file__).parent
# 0.1 modules whose name a subpackage took: the package answers their names itself
NOW_PACKAGES = sorted(old for old in MOVED if (PACKAGE / old.replace(".", "/")).is_dir())


@pytest.mark.parametrize("old", sorted(set(MOVED) - set(NOW_PACKAGES)))
def test_every_old_path_is_the_new_module(old: str) -> None:
    """Each entry of the table points at a module that exists, and both names are one."""
    with pytest.warns(DeprecationWarning, match=rf"checkout_monitor\.{old} moved to"):
        module = importlib.import_module(f"checkout_monitor.{old}")
    assert module is importlib.import_module(f"checkout_monitor.{MOVED[old]}")


@pytest.mark.parametrize("old", NOW_PACKAGES)
def test_an_old_module_that_is_now_a_package_still_has_its_names(old: str) -> None:
    new = importlib.import_module(f"checkout_monitor.{MOVED[old]}")
    name = next(n for n, v in vars(new).items() if getattr(v, "__module__", "") == new.__name__)
    with pytest.warns(DeprecationWarning, match=rf"checkout_monitor\.{old}\.{name} moved to"):
        value = getattr(importlib.import_module(f"checkout_monitor.{old}"), name)
    assert value is getattr(new, name)
    missing = "never_defined_anywhere"
    with pytest.raises(AttributeError):
        getattr(importlib.import_module(f"checkout_monitor.{old}"), missing)


def test_names_of_an_old_module_split_in_two_answer_from_either_part() -> None:
    """0.1's checkout_monitor.browser is now browser/launch.py and browser/chromium.py."""
    result = _run(
        """
        import warnings
        warnings.simplefilter("always")
        from checkout_monitor.browser import LAUNCH_FLAGS, EXECUTABLE_ENV, find_chromium
        from checkout_monitor.browser import ContextFactory, launch_browser
        from checkout_monitor.browser import chromium, launch
        assert LAUNCH_FLAGS is chromium.LAUNCH_FLAGS and find_chromium is chromium.find_chromium
        assert EXECUTABLE_ENV == chromium.EXECUTABLE_ENV
        assert ContextFactory is launch.ContextFactory and launch_browser is launch.launch_browser
        """
    )
    assert result.returncode == 0, result.stderr
    assert "checkout_monitor.browser.LAUNCH_FLAGS moved to" in result.stderr
    assert "checkout_monitor.browser.ContextFactory moved to" in result.stderr


def test_a_journey_from_the_last_release_loads_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for old in MOVED:  # imported by an earlier test: the finder warns on first import only
        monkeypatch.delitem(sys.modules, f"checkout_monitor.{old}", raising=False)
    (tmp_path / "old_style.py").write_text(OLD_JOURNEY)
    with pytest.warns(DeprecationWarning) as caught:
        registry = load_monitors(tmp_path)
    assert "old-style" in registry
    said = " ".join(str(w.message) for w in caught)
    assert "checkout_monitor.journey moved to checkout_monitor.run.journey" in said
    assert "a journey imports what it needs from 'checkout_monitor'" in said


def test_the_warning_points_at_the_users_import_line() -> None:
    result = _run(
        """
        import warnings
        warnings.simplefilter("always")
        from checkout_monitor.storefront import Storefront
        """
    )
    assert result.returncode == 0, result.stderr
    assert "<string>:4: DeprecationWarning: checkout_monitor.storefront moved to" in result.stderr


def test_an_old_module_import_does_not_hide_the_public_decorator() -> None:
    """``import checkout_monitor.journey`` must not turn ``checkout_monitor.journey`` (the
    decorator in the public API) into a module for everyone after."""
    result = _run(
        """
        import warnings
        warnings.simplefilter("ignore")
        from checkout_monitor.journey import JourneyRun
        import checkout_monitor.journey
        from checkout_monitor import journey
        print(callable(journey), type(journey).__name__)
        """
    )
    assert result.stdout.split() == ["True", "function"], result.stderr


def test_new_paths_never_warn() -> None:
    result = _run(
        "from checkout_monitor import journey, JourneyRun, Storefront, CheckFailed\n",
        "-W",
        "error::DeprecationWarning",
    )
    assert result.returncode == 0, result.stderr
    assert checkout_monitor.journey.__module__ == "checkout_monitor.run.journey"
