"""Two small classifiers in numpy for the ``ai`` bot: L2 logistic regression (Newton steps) and
gradient-boosted trees on binned features. Both predict P(up) and are deterministic: the
regression has no randomness, the boosting draws its row samples from ``numpy`` seeded by the
bot's seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


@dataclass(frozen=True, slots=True, eq=False)
class Scaler:
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Scaler:
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std > 0, std, 1.0))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std


@dataclass(frozen=True, slots=True, eq=False)
class LogisticModel:
    scaler: Scaler
    weights: np.ndarray  # [bias, w1..wk] on standardized features

    @classmethod
    def fit(
        cls, x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iterations: int = 50
    ) -> LogisticModel:
        scaler = Scaler.fit(x)
        xb = np.hstack([np.ones((len(x), 1)), scaler.transform(x)])
        w = np.zeros(xb.shape[1])
        penalty = np.full(xb.shape[1], l2)
        penalty[0] = 0.0  # the bias is not shrunk
        for _ in range(iterations):
            p = sigmoid(xb @ w)
            gradient = xb.T @ (p - y) + penalty * w
            hessian = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hessian, gradient)
            w = w - step
            if np.max(np.abs(step)) < 1e-10:
                break
        return cls(scaler, w)

    def predict(self, x: np.ndarray) -> np.ndarray:
        # a row-wise sum, not a matrix product: a row's score must not depend on the batch it
        # is in (BLAS may sum a batch in another order), so one-row live calls match backtests
        return sigmoid(self.weights[0] + (self.scaler.transform(x) * self.weights[1:]).sum(axis=1))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Each feature's push on the log-odds for one row (positive = towards up)."""
        return self.scaler.transform(x) * self.weights[1:]


@dataclass(frozen=True, slots=True, eq=False)
class _Tree:
    feature: np.ndarray  # per node; -1 marks a leaf
    threshold: np.ndarray  # bin index: go left when bin <= threshold
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    def predict(self, bins: np.ndarray) -> np.ndarray:
        node = np.zeros(len(bins), dtype=np.int64)
        while True:
            feature = self.feature[node]
            inner = feature >= 0
            if not inner.any():
                return self.value[node]
            rows = np.flatnonzero(inner)
            goes_left = bins[rows, feature[rows]] <= self.threshold[node[rows]]
            node[rows] = np.where(goes_left, self.left[node[rows]], self.right[node[rows]])


@dataclass(frozen=True, slots=True, eq=False)
class BoostedModel:
    edges: list[np.ndarray]
    base: float
    learning_rate: float
    trees: list[_Tree]
    importance: np.ndarray  # total split gain per feature

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        *,
        rounds: int = 60,
        learning_rate: float = 0.1,
        max_depth: int = 2,
        subsample: float = 0.8,
        seed: int = 0,
        bins: int = 32,
        l2: float = 1.0,
        min_leaf: int = 10,
    ) -> BoostedModel:
        rng = np.random.default_rng(seed)
        edges = [np.unique(np.quantile(col, np.linspace(0, 1, bins + 1)[1:-1])) for col in x.T]
        binned = _bin(x, edges)
        n_bins = bins + 1
        mean = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        base = float(np.log(mean / (1 - mean)))
        score = np.full(len(y), base)
        trees: list[_Tree] = []
        importance = np.zeros(x.shape[1])
        for _ in range(rounds):
            p = sigmoid(score)
            grad, hess = p - y, p * (1 - p)
            rows = np.flatnonzero(rng.random(len(y)) < subsample)
            tree = _grow(binned, grad, hess, rows, max_depth, n_bins, l2, min_leaf, importance)
            trees.append(tree)
            score = score + learning_rate * tree.predict(binned)
        return cls(edges, base, learning_rate, trees, importance)

    def predict(self, x: np.ndarray) -> np.ndarray:
        binned = _bin(x, self.edges)
        score = np.full(len(x), self.base)
        for tree in self.trees:
            score = score + self.learning_rate * tree.predict(binned)
        return sigmoid(score)


def _bin(x: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    return np.stack(
        [np.searchsorted(e, col, side="right") for e, col in zip(edges, x.T, strict=True)], axis=1
    )


def _grow(binned, grad, hess, rows, max_depth, n_bins, l2, min_leaf, importance) -> _Tree:
    feature: list[int] = []
    threshold: list[int] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []

    def add_leaf(idx: np.ndarray) -> int:
        feature.append(-1)
        threshold.append(0)
        left.append(-1)
        right.append(-1)
        value.append(float(-grad[idx].sum() / (hess[idx].sum() + l2)))
        return len(value) - 1

    def build(idx: np.ndarray, depth: int) -> int:
        node = add_leaf(idx)
        if depth >= max_depth or len(idx) < 2 * min_leaf:
            return node
        g_total, h_total = grad[idx].sum(), hess[idx].sum()
        parent = g_total**2 / (h_total + l2)
        best = (0.0, -1, -1)
        for f in range(binned.shape[1]):
            b = binned[idx, f]
            g_left = np.cumsum(np.bincount(b, weights=grad[idx], minlength=n_bins))[:-1]
            h_left = np.cumsum(np.bincount(b, weights=hess[idx], minlength=n_bins))[:-1]
            n_left = np.cumsum(np.bincount(b, minlength=n_bins))[:-1]
            ok = (n_left >= min_leaf) & (len(idx) - n_left >= min_leaf)
            if not ok.any():
                continue
            g_right, h_right = g_total - g_left, h_total - h_left
            gain = g_left**2 / (h_left + l2) + g_right**2 / (h_right + l2) - parent
            gain = np.where(ok, gain, -np.inf)
            t = int(np.argmax(gain))
            if gain[t] > best[0] + 1e-12:
                best = (float(gain[t]), f, t)
        gain, f, t = best
        if f < 0:
            return node
        importance[f] += gain
        goes_left = binned[idx, f] <= t
        feature[node], threshold[node] = f, t
        left[node] = build(idx[goes_left], depth + 1)
        right[node] = build(idx[~goes_left], depth + 1)
        return node

    build(rows, 0)
    return _Tree(
        np.array(feature, dtype=np.int64),
        np.array(threshold, dtype=np.int64),
        np.array(left, dtype=np.int64),
        np.array(right, dtype=np.int64),
        np.array(value, dtype=np.float64),
    )
