"""bnpl_model: WoE scorecard (pseudo credit rating) for the BNPL platform."""

from bnpl_model.scorer import InvalidInput, Scorer

__all__ = ["InvalidInput", "Scorer"]
__version__ = "0.1.0"
