"""The one error the command line prints as a single line (exit status 2)."""

from __future__ import annotations


class CliError(Exception):
    """An error to print as one line and exit with status 2."""
