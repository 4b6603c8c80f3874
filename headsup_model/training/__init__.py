"""HeadsUp training loop (accelerate) and exactly-resumable checkpoints."""
