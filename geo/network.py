"""Walking networks: the :class:`WalkNetwork` container, its builders and its cache.

A WalkNetwork is an undirected graph in a projected (metric) CRS, held as
arrays so shortest paths run on a scipy sparse matrix:

- ``node_xy``: (n, 2) float array of node coordinates in metres;
- ``edges``: GeoDataFrame, one row per street segment, with integer ``u``, ``v``
  (node indices), ``length_m`` (the geometry's length), the source attributes
  (``osm_id``, ``name``, ``kind`` ...) and a LineString geometry running from
  node ``u`` to node ``v``;
- ``crs``: the metric CRS of both;
- ``repair``: what loading did to the data (counts, before/after connectivity).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

__all__ = ["WalkNetwork"]


@dataclass
class WalkNetwork:
    """An undirected walking network in a metric CRS (see module docstring)."""

    node_xy: np.ndarray
    edges: gpd.GeoDataFrame
    crs: object
    repair: dict = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return int(self.node_xy.shape[0])

    def csr(self, extra_nodes: int = 0) -> sp.csr_matrix:
        """Symmetric sparse adjacency (weights = ``length_m``), with room for extra nodes.

        Parallel edges keep their shortest length (a sparse matrix would sum them).
        """
        n = self.n_nodes + extra_nodes
        u = self.edges["u"].to_numpy(np.int64)
        v = self.edges["v"].to_numpy(np.int64)
        w = self.edges["length_m"].to_numpy(float)
        a, b = np.minimum(u, v), np.maximum(u, v)
        order = np.lexsort((w, b, a))
        a, b, w = a[order], b[order], w[order]
        first = np.ones(len(a), bool)
        first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        a, b, w = a[first], b[first], w[first]
        keep = a != b  # self-loops never shorten a path
        a, b, w = a[keep], b[keep], w[keep]
        return sp.csr_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n))

    def components(self) -> np.ndarray:
        """Connected-component label of every node."""
        _, labels = csgraph.connected_components(self.csr(), directed=False)
        return labels
