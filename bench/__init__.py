"""`make bench`: the SPEC §7 benchmarks. Figures, not pass/fail tests."""
