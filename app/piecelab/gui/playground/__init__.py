"""The Playground view: an editor beside the deterministic and sampled segmentations."""

from .playground import Playground

__all__ = ["Playground"]
