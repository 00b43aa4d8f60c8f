"""``checkout-monitor serve``: run the journeys at their intervals until stopped."""

from __future__ import annotations

import argparse
import logging
import os
import socket

from checkout_monitor.agent.serve import ServeOptions, serve
from checkout_monitor.agent.sharding import shard_from
from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.cli.guard import LOG_REDACTION
from checkout_monitor.cli.targets import demo_request
from checkout_monitor.config.loader import load_config
from checkout_monitor.config.locate import config_path
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.run.target import open_target


def command(args: argparse.Namespace) -> ExitCode:
    # one line per journey run: what a container's log should say
    logging.getLogger("checkout_monitor").setLevel(logging.INFO)
    shard = shard_from(args.shard, os.environ, socket.gethostname)  # bad: exit 2, first
    with open_target(args.config, demo_request(args)) as (first, header):

        def load() -> LoadedConfig:
            """At start and on SIGHUP: the demo config stays; a file is read again."""
            loaded = first if args.demo else load_config(config_path(args.config))
            LOG_REDACTION.add(loaded.secrets)
            return loaded

        options = ServeOptions(args.listen, args.web_config, args.interval, args.monitors, shard)
        serve(load, header, options)
    print("stopped", flush=True)
    return ExitCode.OK
