"""GCNSurrogate: a GCN fitted to supernet scores of sampled cells ranks the whole space."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from predictbench.spaces.nb201 import NB201Space
from predictbench.supernet import SupernetAdapter
from predictbench.supernet.surrogate import GCNSurrogate
from predictbench.supernet.weight_sharing import NB201WeightSharing
from predictbench.types import NotFittedError

GCN = {"epochs": 40, "hidden": 16, "mlp_hidden": 16, "n_layers": 2}


class ConvCount:
    """A noise-free 'supernet': the number of convolutions (what a GCN can learn from a few samples)."""

    def fit(self, space: NB201Space, data: object, *, epochs: int = 0, seed: int = 0) -> ConvCount:
        self.space_ = space
        return self

    def score(self, archs: list) -> np.ndarray:  # type: ignore[type-arg]
        return (self.space_.ops_array(archs) >= 2).sum(axis=1).astype(float)


def test_gcn_learns_the_supernet_signal_and_ranks_the_space(space: NB201Space) -> None:
    surrogate = GCNSurrogate(ConvCount(), n_samples=80, gcn_params=GCN).fit(space, None, epochs=0, seed=0)
    assert isinstance(surrogate, SupernetAdapter)
    assert len(set(surrogate.samples_)) == 80 and surrogate.sample_scores_.shape == (80,)
    ranking = surrogate.rank_space()
    assert ranking.shape == (len(space),)
    truth = ConvCount().fit(space, None).score(space.enumerate())
    assert spearmanr(ranking, truth).statistic > 0.8  # generalises from 80 cells to all 15,625
    held_out = space.sample(np.random.default_rng(9), 20)
    assert np.array_equal(surrogate.score(held_out), ranking[space.index_of(held_out)])
    again = GCNSurrogate(ConvCount(), n_samples=80, gcn_params=GCN).fit(space, None, epochs=0, seed=0)
    assert np.array_equal(again.score(held_out), surrogate.score(held_out))


def test_wraps_a_fitted_supernet_without_changing_it(fitted: NB201WeightSharing, space: NB201Space) -> None:
    weight = fitted.model_.classifier.weight.detach().clone()
    surrogate = GCNSurrogate(fitted, n_samples=12, gcn_params={**GCN, "epochs": 5}, refit=False).fit(space, seed=1)
    assert np.array_equal(surrogate.sample_scores_, fitted.score(surrogate.samples_))
    assert (fitted.model_.classifier.weight == weight).all()
    assert surrogate.adapter_ is not fitted
    assert np.isfinite(surrogate.score(space.sample(np.random.default_rng(0), 5))).all()
    with pytest.raises(NotFittedError):
        GCNSurrogate(fitted).score(surrogate.samples_)
    with pytest.raises(ValueError, match="n_samples"):
        GCNSurrogate(fitted, n_samples=1, refit=False).fit(space)
