"""Partner suggestions: which European and Korean clusters to introduce to each other, and why.

`Matcher` scores European–Korean pairs from explainable signals (shared ecosystems and industries, mutual
target countries, seeking ↔ offering texts, member mix) weighted by `mappings/partner_weights.toml`.
"""

from __future__ import annotations

from clusterbridge.partners.facts import CooperationText, EnglishTexts
from clusterbridge.partners.match import Matcher, Reason, Refresh, Suggestion
from clusterbridge.partners.weights import Weights, load_weights, parse_weights

__all__ = [
    "CooperationText",
    "EnglishTexts",
    "Matcher",
    "Reason",
    "Refresh",
    "Suggestion",
    "Weights",
    "load_weights",
    "parse_weights",
]
