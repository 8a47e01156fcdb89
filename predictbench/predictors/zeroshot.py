"""``zero-shot``: a label-free ensemble of the 2023-25 training-free proxies (no accuracy of any cell is read).

The score of a cell is AZ-NAS's non-linear aggregation extended to more signals: the mean of the logarithms
of its mid-ranks, one per proxy, within all cells of the benchmark that have values
(:class:`~predictbench.predictors.zerocost.RankEnsemblePredictor` with ``aggregate="log"``). The proxies are
read from the store: a name ``p`` stands for the column ``p_live`` (computed by ``predictbench proxies
compute`` or shipped with the package, :mod:`predictbench.proxies.shipped`) or else ``p``; a store without
any of them gets one clear error saying how to compute them.

The default set (:data:`ZERO_SHOT_PROXIES`) was fixed before any measurement, from the members' published
figures: AZ-NAS's four components, jacob_cov (VKDNW's partner), MeCo, ZiCo and regularised SWAP. On the
3,539 nb201/cifar10 cells of the first 1,400 function classes of the shipped table (``python
benchmarks/bench_zero_shot.py --root R``) it reaches Kendall tau .786 / Spearman rho .936 against test accuracy
at 200 epochs, against .660 / .853 for AZ-NAS's aggregate and .736 / .905 for VKDNW's on the same cells. ``fit``
reads no target value, only its length, so the same model scores any training size alike.

Examples
--------
>>> import predictbench as pb
>>> bench = pb.load("nb201/cifar10")  # doctest: +SKIP
>>> model = ZeroShotPredictor().fit(bench.batch(bench.keys()[:1]), [0.0])  # doctest: +SKIP
>>> model.proxy_names_[:2]  # doctest: +SKIP
['az_expressivity_live', 'az_progressivity_live']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from predictbench.predictors.zerocost import ProxySpec, RankEnsemblePredictor, proxy_hint, select_proxies

__all__ = ["ZERO_SHOT_PROXIES", "ZeroShotPredictor", "frontier_columns"]

ZERO_SHOT_PROXIES: tuple[str, ...] = (
    "az_expressivity",
    "az_progressivity",
    "az_trainability",
    "az_complexity",
    "jacob_cov",
    "meco",
    "zico",
    "swap_reg",
)
"""The default members: AZ-NAS's four components, jacob_cov, MeCo, ZiCo and regularised SWAP."""


def frontier_columns(available: Sequence[str]) -> list[str]:
    """The columns of :data:`ZERO_SHOT_PROXIES` among ``available``, each as ``<name>_live`` where computed, else
    ``<name>`` (a converter's column), in that order."""
    return [
        f"{name}_live" if f"{name}_live" in available else name
        for name in ZERO_SHOT_PROXIES
        if f"{name}_live" in available or name in available
    ]


class ZeroShotPredictor(RankEnsemblePredictor):
    """Mean log-rank of the 2023-25 proxies; the proxies a store lacks are left out (at least one needed).

    Parameters
    ----------
    proxies
        ``"frontier"`` (default: :data:`ZERO_SHOT_PROXIES`, each as ``<name>_live`` or ``<name>``, those the
        store has), or proxy column names as for :class:`RankEnsemblePredictor`.
    weights, reference, proxy_source, aggregate
        As for :class:`RankEnsemblePredictor` (``aggregate`` defaults to ``"log"`` here).
    """

    def __init__(
        self,
        *,
        proxies: ProxySpec = "frontier",
        weights: Sequence[float] | None = None,
        reference: str = "benchmark",
        proxy_source: str | None = None,
        aggregate: str = "log",
    ) -> None:
        super().__init__(
            proxies=proxies, weights=weights, reference=reference, proxy_source=proxy_source, aggregate=aggregate
        )

    def _proxy_names(self, X: Any, who: str) -> list[str]:
        bench = X.benchmark
        available = list(bench.proxy_names)
        if self.proxies != "frontier":
            return select_proxies(available, self.proxies, bench.name, who, "'frontier' or proxy names")
        names = frontier_columns(available)
        if not names:
            raise ValueError(
                f"{who}: benchmark {bench.name!r} has none of the 2023-25 proxies ({', '.join(ZERO_SHOT_PROXIES)}); "
                f"{proxy_hint(bench)} (e.g. `-p {','.join(ZERO_SHOT_PROXIES)}`)"
            )
        return names
