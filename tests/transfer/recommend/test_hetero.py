from __future__ import annotations

import torch

from kgtransfer.transfer.recommend import build_hetero_data


def test_node_and_edge_types(planted_zoo) -> None:
    data, index = build_hetero_data(planted_zoo)
    assert set(index.names) == {"model", "dataset", "task", "domain", "family"}
    assert data["model"].num_nodes == 10 and data["family"].num_nodes == 2
    assert data["model", "transfers_to", "dataset"].edge_index.shape[1] == 80
    assert data["model", "transfers_to", "dataset"].edge_attr.shape == (80, 1)
    assert data["model", "trained_on", "dataset"].edge_index.shape[1] == 10
    w = data["dataset", "similar_to", "dataset"].edge_attr
    assert float(w.min()) >= 0.0 and float(w.max()) <= 1.0
    # reverse edges mirror the forward ones
    fwd = data["model", "transfers_to", "dataset"].edge_index
    rev = data["dataset", "rev_transfers_to", "model"].edge_index
    assert torch.equal(fwd.flip(0), rev)


def test_excluded_target_records_gone_in_both_directions(planted_zoo) -> None:
    data, index = build_hetero_data(planted_zoo, exclude_datasets=["t"])
    t = index.index["dataset"]["t"]
    assert "t" in index.names["dataset"]  # the node stays for cold start
    fwd = data["model", "transfers_to", "dataset"].edge_index
    rev = data["dataset", "rev_transfers_to", "model"].edge_index
    assert fwd.shape[1] == 70 and not bool((fwd[1] == t).any())
    assert not bool((rev[0] == t).any())
    for etype in data.edge_types:
        if "transfers" in etype[1]:
            continue
        assert (
            data[etype].edge_index.shape[1]
            == build_hetero_data(planted_zoo)[0][etype].edge_index.shape[1]
        )
