"""Guard rails: a short listing or a mass change on one platform must never wipe or rewrite the other."""

from __future__ import annotations

import math


def listing_anomalies(
    received: int,
    reported_total: int | None,
    last_full_count: int | None,
    min_ratio: float,
    ended_on_error: str | None = None,
    *,
    changed_during: int = 0,
    unidentified: int = 0,
) -> list[str]:
    """Reasons not to trust a full listing for deletions (empty when it looks complete).

    `received` counts distinct records (one edited while the listing paged is one record). A count that differs
    from the reported total by no more than the records that changed during the listing (`changed_during`) is
    not an anomaly: the total was counted before they were added or edited. Records without a usable id
    (`unidentified`) cannot be matched to their mirrors, so a listing holding any is not trusted."""
    problems: list[str] = []
    if ended_on_error:
        problems.append(f"the listing ended on an error: {ended_on_error}")
    if reported_total is not None and abs(reported_total - received) > changed_during:
        problems.append(f"the platform reported {reported_total} records but {received} arrived")
    if unidentified:
        problems.append(f"{unidentified} listing element(s) carry no usable id, so their mirrors cannot be told "
                        "apart from those of deleted records")
    if last_full_count and received < last_full_count * min_ratio:
        problems.append(
            f"the listing holds {received} records, fewer than {min_ratio:.0%} of the {last_full_count} "
            "seen in the last complete listing"
        )
    return problems


def deletion_limit(mirrors_live: int, max_count: int, max_share: float) -> int:
    """How many deletions one run may carry out without an operator: the smaller of the count and the
    share of live mirrors, but never fewer than one, so a single withdrawal always flows."""
    return max(1, min(max_count, math.floor(mirrors_live * max_share)))


def update_limit(mirrors_live: int, budget_count: int, budget_share: float) -> int:
    """How many updates one run may write on an established ledger: the larger of the count and the share."""
    return max(budget_count, math.floor(mirrors_live * budget_share))
