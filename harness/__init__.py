"""handset-harness: drive real and emulated phones through one code path."""

__version__ = "0.1.0"
