"""The ``blockbotx`` command line: with no subcommand it opens the dashboard."""

from tui.cli.main import main

__all__ = ["main"]
