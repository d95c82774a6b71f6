"""Curating preference data: pairs from ratings, curricula, filtering."""

from prefkit.curate.curriculum import curriculum_pairs

__all__ = ["curriculum_pairs"]
