"""Errors a user can cause and fix: the CLI prints them as one line and exits non-zero."""


class UserError(Exception):
    """A bad value from the user (config, files, checkpoint); the message names it and what is allowed."""
