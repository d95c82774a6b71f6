"""The ``prefkit`` command: one thin subcommand per task."""
