"""mozoo: ready-made datasets, inspect-ai tasks and workflows for motools."""
