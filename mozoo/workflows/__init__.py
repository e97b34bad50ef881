"""Workflows of the zoo, registered with motools through entry points (see pyproject.toml)."""
