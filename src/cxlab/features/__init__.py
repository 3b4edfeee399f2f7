"""Features of survey invitations, orders and customers, without leakage.

See ``docs/features.md`` for every feature and its definition.
"""

from cxlab.features.builder import FEATURES, invitation_features, order_features

__all__ = ["FEATURES", "invitation_features", "order_features"]
