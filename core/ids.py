"""CUID2 identifiers, as the seed's `createId()`."""

from cuid2 import Cuid

_generator = Cuid(length=25)


def new_id() -> str:
    """A fresh collision-resistant CUID2 string (25 characters, starts with a letter)."""
    return _generator.generate()
