"""Console entry points (thin: parse, configure logging, call the library)."""
