"""Re-ID retrieval metrics: CMC rank-k and mean average precision (Market-1501 protocol)."""

import numpy as np


def cosine_distance(query_features, gallery_features):
    """Return the (Q, G) cosine distance matrix of two sets of L2-normalised feature rows."""
    return 1.0 - np.asarray(query_features, np.float32) @ np.asarray(gallery_features, np.float32).T


def evaluate_ranking(distances, query_pids, query_camids, gallery_pids, gallery_camids, max_rank=5):
    """Return {'rank1', 'rank5', 'mAP', 'num_queries'} over queries with a valid gallery match.

    Gallery entries with the query's id *and* camera are excluded (standard protocol; camera
    -1 means unknown and excludes nothing). Queries without any remaining match are skipped.
    """
    query_pids, query_camids = np.asarray(query_pids), np.asarray(query_camids)
    gallery_pids, gallery_camids = np.asarray(gallery_pids), np.asarray(gallery_camids)
    cmc_sum = np.zeros(max_rank)
    average_precisions = []
    for i in range(len(query_pids)):
        order = np.argsort(distances[i], kind='stable')
        same_view = (gallery_pids[order] == query_pids[i]) & (gallery_camids[order] == query_camids[i])
        keep = ~same_view | (query_camids[i] == -1)
        matches = (gallery_pids[order] == query_pids[i])[keep]
        if not matches.any():
            continue
        first = int(np.argmax(matches))
        cmc_sum[first:] += 1
        hits = np.cumsum(matches)
        average_precisions.append(float(np.mean(hits[matches] / (np.flatnonzero(matches) + 1))))
    count = len(average_precisions)
    if count == 0:
        return {'rank1': 0.0, 'rank5': 0.0, 'mAP': 0.0, 'num_queries': 0}
    cmc = cmc_sum / count
    return {'rank1': float(cmc[0]), 'rank5': float(cmc[min(4, max_rank - 1)]),
            'mAP': float(np.mean(average_precisions)), 'num_queries': count}
