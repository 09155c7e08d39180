"""Converters from foreign checkpoints to tfstyle weights (need optional extras)."""
