"""Dispatch figures (SPEC §6): counters kept as rides start and end and as offers go out, read back per period."""
