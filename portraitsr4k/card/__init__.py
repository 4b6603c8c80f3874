"""Dataset card (``README.md`` + histogram PNGs) of a PortraitSR-4K build."""

from portraitsr4k.card.readme import CARD_NAME, FIGURE_NAMES, collect_stats, render_card, write_card

__all__ = ["CARD_NAME", "FIGURE_NAMES", "collect_stats", "render_card", "write_card"]
