"""Every command runs inside ``guarded``: an anticipated problem becomes a plain message and
exit code 2; only ``--verbose`` shows a traceback, and only for a bug."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable

from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.errors import CheckoutMonitorError, ConfigError
from checkout_monitor.evidence.redaction import LogRedaction

# No log line, from us or a library, carries a ${ENV} value: commands add a config's secrets.
LOG_REDACTION = LogRedaction()

Command = Callable[[argparse.Namespace], ExitCode]


def guarded(prog: str, command: Command, args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    LOG_REDACTION.install(logging.getLogger())
    # The embedded demo shop's request log is noise next to the journey's own lines.
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        return int(command(args))
    except ConfigError as exc:
        count = len(exc.problems)
        print(
            f"{prog}: the config is not valid ({count} problem{'s' * (count != 1)}):",
            file=sys.stderr,
        )
        print(exc.render(), file=sys.stderr)
    except CheckoutMonitorError as exc:
        # the config's secrets, as in the log: a browser server's URL may end in its token
        print(f"{prog}: {LOG_REDACTION.text(str(exc))}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        print(
            f"{prog}: internal error: {type(exc).__name__}: {LOG_REDACTION.text(str(exc))}\n"
            "This is a bug in checkout-monitor, not in your shop. Rerun with --verbose and "
            "report what it prints.",
            file=sys.stderr,
        )
    return int(ExitCode.USAGE_ERROR)
