"""Datasets of the zoo; each module exposes a seeded generator returning a motools Dataset."""
