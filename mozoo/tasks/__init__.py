"""inspect-ai tasks of the zoo. Each module imports inspect-ai, so import them only to evaluate."""
