"""Console entry points: ``portraitsr4k-bench`` and ``portraitsr4k-leaderboard``."""
