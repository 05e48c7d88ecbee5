"""ConsentLens: photo consent for clubs and schools."""

__version__ = "0.1.0"
