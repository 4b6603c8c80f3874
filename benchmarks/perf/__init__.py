"""Performance scripts (run as modules, e.g. ``python -m benchmarks.perf.degradation_speed``); not tests."""
