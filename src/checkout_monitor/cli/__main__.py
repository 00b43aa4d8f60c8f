"""``python -m checkout_monitor.cli``: the same as the ``checkout-monitor`` command."""

import sys

from checkout_monitor.cli import main

sys.exit(main())
