"""Helpers the tests share: real servers, the CLI in a subprocess, secret searches."""
