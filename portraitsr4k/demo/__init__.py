"""Demo helpers: a side-by-side sheet of every degradation preset on the shipped portraits."""

from portraitsr4k.demo.sheet import DegradationSheet, make_degradation_sheet

__all__ = ["DegradationSheet", "make_degradation_sheet"]
