"""Pure readers of submission mail: bytes in, frozen records out (see parsers/types.py)."""
