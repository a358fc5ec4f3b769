"""bnpl_model: the BNPL platform's pseudo credit rating (additive lookup-table model, numpy scorer)."""

from bnpl_model.scorer import InvalidInput, Scorer

__all__ = ["InvalidInput", "Scorer"]
__version__ = "0.2.0"
