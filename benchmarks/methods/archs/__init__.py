"""Network architectures of benchmarked methods (our own code; state_dict keys follow the
official checkpoints so their ``.pth`` files load unchanged)."""
