"""Model organisms of the field, one sub-package each, loaded from their public sources.

Each `mozoo.organisms.<name>` package has dataset loaders (the published training data, its
controls and variants, through `mozoo.sources`), a `tasks` module of inspect-ai tasks scored as the
paper scores them (imported only to evaluate), and an `ORGANISM` card (`Organism`) registered under
the entry-point group `motools.organisms` for `motools zoo list`. See docs/zoo.md.
"""

from mozoo.organisms._card import Organism

__all__ = ["Organism"]
