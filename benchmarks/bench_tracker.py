"""Tracker benchmark: speed and accuracy, ours vs deep-sort-realtime and boxmot, in one run.

    python benchmarks/bench_tracker.py [--quick] [--groups people uninformative dashcam cnn]
        [--skip-speed] [--skip-process] [--trackers SUBSTRING ...] [--out benchmarks/results/tracker.json]

1. Tracker-only speed (embeddings given) at 10/50/200 objects per frame, one core (a pinned
   subprocess with one torch/OpenMP thread): our DeepSort vs deep-sort-realtime's Tracker.
2. Accuracy, per group (--groups), of our variants, deep-sort-realtime and boxmot's ByteTrack,
   OC-SORT, BoT-SORT, BoostTrack, Deep OC-SORT and Hybrid-SORT on identical detections (and identical embeddings for the appearance
   trackers: our default embedder, computed once per sequence):
   - people: generated people who cross and occlude each other, static and panning camera;
   - uninformative: the same trajectories and detections with uniform grey frames and with
     everyone in the same clothes (appearance carries no information);
   - dashcam: forward-driving dashcam sequences of vehicles (mot/synthetic_dashcam.py), with
     config/dashcam_vehicles.yaml as an extra row;
   - walking: people who walk, stop, turn and go in groups as pedestrians do, at 10 frames/s
     from a raised camera, with detections whose scores, jitter and gaps match the people
     checkpoint's on vtest.avi (mot/synthetic_walking.py, benchmarks/walking_realism.py);
     distinct clothes and uniform grey frames;
   - cnn: the people group with the paper's descriptor network trained on generated sequences
     of other seeds (101-112; trained once, ~16 min, cached in --data-dir, or --reid-weights).
   Defaults were chosen on --seeds; --heldout-seeds are sequences no setting was tuned on,
   reported apart. --trackers narrows the rows while iterating.
3. Whole-process speed of ``perception-track-mot`` with the default embedder on CPU.

Prints markdown tables and writes the figures plus machine info to the JSON file. Numbers
taken on a shared machine are noisy: compare rows of the same run.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_EMBEDDER = 'auto'  # TrackerConfig's default embedder (histogram on CPU, mobilenetv2 on CUDA)
REPO = os.path.dirname(HERE)


# --------------------------------------------------------------------------- speed (worker side)

def make_speed_inputs(n_objects, frames, dim, seed=0):
    """Per-frame boxes, scores and L2-normalised embeddings of n objects moving linearly with noise."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform([0, 0], [1800, 900], (n_objects, 2))
    vel = rng.normal(0, 2, (n_objects, 2))
    size = rng.uniform([20, 50], [60, 150], (n_objects, 2))
    identity = rng.normal(size=(n_objects, dim))
    out = []
    for _ in range(frames):
        pos += vel
        centre = pos + rng.normal(0, 1.5, pos.shape)
        boxes = np.hstack([centre - size / 2, centre + size / 2])
        emb = identity + rng.normal(0, 0.3, identity.shape)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        out.append((boxes, rng.uniform(0.6, 1.0, n_objects), emb.astype(np.float32)))
    return out


def time_tracker(make_adapter, inputs, warmup=10):
    """Frames per second of an adapter over the inputs (after a warm-up on a separate instance)."""
    warm = make_adapter()
    for t, (boxes, scores, emb) in enumerate(inputs[:warmup]):
        warm.update(boxes, scores, emb, None, t / 30)
    adapter = make_adapter()
    start = time.perf_counter()
    for t, (boxes, scores, emb) in enumerate(inputs):
        adapter.update(boxes, scores, emb, None, t / 30)
    return len(inputs) / (time.perf_counter() - start)


def speed_worker(args):
    """Subprocess body: pin to one core, time ours and deep-sort-realtime per object count, print JSON."""
    os.sched_setaffinity(0, {args.core})
    import torch
    torch.set_num_threads(1)
    from perception_deepsort.config import TrackerConfig
    from tracker_baselines import DeepSortRealtimeAdapter, OursAdapter

    result = {}
    for n in args.objects:
        inputs = make_speed_inputs(n, args.frames, args.dim)
        row = {}
        for name, factory in (('ours', lambda: OursAdapter(TrackerConfig())),
                              ('ours_paper', lambda: OursAdapter(paper_config())),
                              ('deep_sort_realtime', lambda: DeepSortRealtimeAdapter(min_score=0.0))):
            row[name] = time_tracker(factory, inputs)
        row['speedup'] = row['ours'] / row['deep_sort_realtime']
        result[n] = row
    print(json.dumps(result))


def run_speed(objects_list, frames, dim):
    """Tracker-only frames/s per object count, measured in a subprocess pinned to one core."""
    core = sorted(os.sched_getaffinity(0))[-1]
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'OPENBLAS_NUM_THREADS': '1'}
    cmd = [sys.executable, os.path.abspath(__file__), '--speed-worker', '--objects', *map(str, objects_list),
           '--frames', str(frames), '--dim', str(dim), '--core', str(core)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd=HERE)
    rows = {int(n): row for n, row in json.loads(out.stdout.strip().splitlines()[-1]).items()}
    for n, row in rows.items():
        print(f'  {n} objects: ours {row["ours"]:.0f} fps, deep-sort-realtime {row["deep_sort_realtime"]:.0f} fps')
    return rows


# --------------------------------------------------------------------------- accuracy

def paper_config(**changes):
    """DeepSORT as published: appearance cascade, no extensions."""
    from perception_deepsort.config import TrackerConfig
    return TrackerConfig.paper(**changes)


def variants(group):
    """Name -> adapter factory of every tracker compared on a group (same detections and embeddings).

    The 'cnn' group's embeddings come from the descriptor network trained on generated sequences of
    other seeds (see trained_reid_weights); the other groups use the default embedder's.
    """
    from perception_deepsort.config import TrackerConfig
    from tracker_baselines import BoxmotAdapter, DeepSortRealtimeAdapter, OursAdapter

    def profile(path, **changes):
        """The tracker settings of a config/*.yaml profile, with changes."""
        return TrackerConfig(**{**TrackerConfig.from_yaml(path).to_dict(), **changes})

    others = {name: (lambda name=name: BoxmotAdapter(PEERS[name][0], **PEERS[name][1])) for name in OTHERS}
    if group == 'cnn':
        return {
            'ours: DeepSORT paper settings, trained CNN': lambda: OursAdapter(paper_config()),
            'ours: default settings, trained CNN': lambda: OursAdapter(TrackerConfig()),
            TRAINED: lambda: OursAdapter(profile(TRAINED_PROFILE)),
            'deep-sort-realtime (trained CNN embeddings)': lambda: DeepSortRealtimeAdapter(),
            **others,
        }
    rows = {
        MOTION: lambda: OursAdapter(TrackerConfig(use_appearance=False)),
        'ours: DeepSORT paper settings': lambda: OursAdapter(paper_config()),
        'ours: paper + time-based prediction': lambda: OursAdapter(paper_config(time_based=True)),
        'ours: paper + camera-motion compensation': lambda: OursAdapter(paper_config(camera_motion=True)),
        'ours: paper + low-score second pass': lambda: OursAdapter(paper_config(low_score_pass=True)),
        'ours: paper + EMA features (0.9)': lambda: OursAdapter(paper_config(feature_ema=0.9)),
        'ours: default, appearance always full weight (appearance_margin 0: BoT-SORT cost)': lambda: OursAdapter(
            TrackerConfig(appearance_margin=0.0)),
        'ours: default with the paper\'s velocity noise (std_weight_velocity 1/160)': lambda: OursAdapter(
            TrackerConfig(std_weight_velocity=1 / 160)),
        'ours: default without camera-motion compensation': lambda: OursAdapter(TrackerConfig(camera_motion=False)),
        'ours: default without relinking': lambda: OursAdapter(TrackerConfig(relink_lost=False)),
        'ours: default with the paper\'s Kalman state (box_state xyah)': lambda: OursAdapter(
            TrackerConfig(box_state='xyah')),
        'ours: default with appearance_margin 0.1 (previous default)': lambda: OursAdapter(
            TrackerConfig(appearance_margin=0.1)),
        'ours: default, matched tracks only (output_lost_s 0, previous default)': lambda: OursAdapter(
            TrackerConfig(output_lost_s=0.0)),
        'ours: default with n_init 2': lambda: OursAdapter(TrackerConfig(n_init=2)),
        'ours: default with min_score 0.4': lambda: OursAdapter(TrackerConfig(min_score=0.4)),
        'ours: default, low-score matches confirm (low_score_confirms)': lambda: OursAdapter(
            TrackerConfig(low_score_confirms=True)),
        DEFAULT: lambda: OursAdapter(TrackerConfig()),
    }
    if group == 'dashcam':
        rows[DASHCAM] = lambda: OursAdapter(profile(DASHCAM_PROFILE))
        rows['ours: config/dashcam_vehicles.yaml, matched tracks only (output_lost_s 0)'] = lambda: OursAdapter(
            profile(DASHCAM_PROFILE, output_lost_s=0.0))
    if group == 'walking':
        rows[PEOPLE_PROFILE_ROW] = lambda: OursAdapter(profile(PEOPLE_PROFILE))
    rows['deep-sort-realtime (same embeddings)'] = lambda: DeepSortRealtimeAdapter()
    return {**rows, **others}


MOTION = 'ours: default, motion only (no appearance)'
#: The peers: boxmot 25.0.0 trackers with their own defaults, all motion-only (no re-ID model:
#: boxmot's re-ID weights are a download; BoT-SORT, BoostTrack and Hybrid-SORT keep their ECC
#: camera-motion compensation, Deep OC-SORT its sparse-flow one). Name -> (class, keyword args).
PEERS = {
    'boxmot ByteTrack': ('ByteTrack', {'frame_rate': 30}),
    'boxmot OC-SORT': ('OcSort', {}),
    'boxmot BoT-SORT (no ReID, ECC)': ('BotSort', {'use_embeddings': False, 'frame_rate': 30}),
    'boxmot BoostTrack (no ReID, ECC)': ('BoostTrack', {'use_embeddings': False}),
    'boxmot Deep OC-SORT (no ReID)': ('DeepOcSort', {'use_embeddings': False}),
    'boxmot Hybrid-SORT (no ReID, ECC)': ('HybridSort', {'use_embeddings': False}),
}
OTHERS = tuple(PEERS)
BYTETRACK = 'boxmot ByteTrack'
DEFAULT = 'ours: default (all extensions)'
TRAINED = 'ours: config/trained_reid.yaml (trained CNN)'
TRAINED_PROFILE = os.path.join(REPO, 'config', 'trained_reid.yaml')
DASHCAM = 'ours: config/dashcam_vehicles.yaml'
DASHCAM_PROFILE = os.path.join(REPO, 'config', 'dashcam_vehicles.yaml')
DASHCAM_SIZE = (640, 360)
#: The people checkpoint's profile (laid over config/tracking.yaml by the demo).
PEOPLE_PROFILE = os.path.join(REPO, 'config', 'person_fall_detection.yaml')
PEOPLE_PROFILE_ROW = 'ours: default + config/person_fall_detection.yaml (min_score 0.3)'
#: Benchmark group -> (title, subsets its tables split the sequences into).
GROUPS = {
    'people': ('People with distinctive clothes', ('static', 'pan')),
    'uninformative': ('People, appearance uninformative (uniform grey frames; everyone in the same clothes)',
                      ('uniform', 'lookalike')),
    'dashcam': ('Forward-driving dashcam, vehicles', ()),
    'walking': ('People walking as pedestrians do, detections like a real detector\'s (distinct clothes; '
                'uniform grey frames)', ('distinct', 'uniform')),
    'cnn': ('People with distinctive clothes, descriptor trained on other seeds', ('static', 'pan')),
}
REID_TRAIN_SEEDS = list(range(101, 113))  # never benchmark seeds
REID_EPOCHS = 12


def embed_sequence(seq_dir, embedder, cache):
    """Per-frame embeddings of every detection of a sequence (cached next to it)."""
    from perception_deepsort.mot import io
    info = io.read_seqinfo(seq_dir)
    dets = io.read_detections(seq_dir, info.length)
    if os.path.isfile(cache):
        data = np.load(cache)
        cached = np.split(data['features'], np.cumsum(data['counts'])[:-1])
        # A cache from an older embedder version is recomputed: check it on the first frame.
        first = embedder.embed(io.read_frame(seq_dir, info, 1), dets[0].boxes)
        if len(cached) == info.length and np.allclose(cached[0], first, atol=1e-6):
            return cached
    features = [embedder.embed(image, d.boxes) for d, (_, image) in zip(dets, io.iter_frames(seq_dir, info))]
    np.savez(cache, features=np.concatenate(features), counts=[len(f) for f in features])
    return features


def run_tracker(adapter, seq_dir, embeddings, out_path, keep=None):
    """Run one adapter over a sequence (only the frames where ``keep`` is true) and write MOTChallenge results."""
    from perception_deepsort.mot import io
    info = io.read_seqinfo(seq_dir)
    frames, ids, boxes, scores = [], [], [], []
    for index, dets in enumerate(io.read_detections(seq_dir, info.length)):
        if keep is not None and not keep[index]:
            continue
        image = io.read_frame(seq_dir, info, index + 1) if adapter.needs_image else None
        t_ids, t_boxes, t_scores = adapter.update(dets.boxes.astype(np.float64), dets.scores.astype(np.float64),
                                                  embeddings[index], image, index / info.frame_rate)
        frames += [index + 1] * len(t_ids)
        ids += t_ids.tolist()
        boxes += list(t_boxes)
        scores += t_scores.tolist()
    if not frames:  # no track reported at all (a tiny --quick sequence): an empty results file
        os.makedirs(os.path.dirname(out_path), exist_ok=True)
        open(out_path, 'w').close()
        return
    io.write_results(out_path, frames, ids, np.array(boxes).reshape(-1, 4), scores)


def generated_sequences(root, seeds, frames, objects, width, height, suffix='', appearances=('distinct',)):
    """{name: folder} of a static and a panning people sequence per seed and appearance, generated once.

    'distinct' keeps the generator's clothes; 'uniform' (flat grey frames) and 'lookalike' (one outfit for
    everyone) have the same trajectories and detections with uninformative appearance.
    """
    from perception_deepsort.mot import synthetic

    seqs = {}
    for appearance in appearances:
        tag = '' if appearance == 'distinct' else '-' + appearance.upper()
        for camera in ('static', 'pan'):
            for seed in seeds:
                folder = os.path.join(root, synthetic.sequence_name(camera, seed, 0) + tag + suffix)
                if not os.path.isfile(os.path.join(folder, 'seqinfo.ini')):
                    synthetic.write_sequence(folder, synthetic.SceneConfig(
                        width=width, height=height, frames=frames, objects=objects, camera=camera,
                        seed=seed * 1000, appearance=appearance), progress=False)
                seqs[os.path.basename(folder)] = folder
    return seqs


def dashcam_sequences(root, seeds, frames, width, height):
    """{name: folder} of one forward-driving dashcam sequence per seed under root, generated once."""
    from perception_deepsort.mot import synthetic_dashcam

    seqs = {}
    for seed in seeds:
        folder = os.path.join(root, f'{synthetic_dashcam.sequence_name(seed)}-{frames}f{width}x{height}')
        if not os.path.isfile(os.path.join(folder, 'seqinfo.ini')):
            synthetic_dashcam.write_sequence(folder, synthetic_dashcam.DashcamConfig(
                width=width, height=height, frames=frames, seed=seed * 1000), progress=False)
        seqs[os.path.basename(folder)] = folder
    return seqs


def trained_reid_weights(data_dir, quick=False):
    """The descriptor network trained on generated sequences of REID_TRAIN_SEEDS (cached in data_dir).

    Domain adaptation as a user would do it: perception-make-mot sequences of other seeds than the
    benchmark's, cut into a Market-1501 set by perception-mot-reid-crops (the last 4 sequences
    are its query/gallery), trained by perception-train-reid at 64x32 with width 16.
    """
    from perception_deepsort.mot import reid_crops
    from perception_deepsort.training import train

    root = os.path.join(data_dir, 'reid')
    best = os.path.join(root, 'run', 'best.pt')
    if os.path.isfile(os.path.join(root, 'run', 'metrics.json')):
        return best
    seeds = REID_TRAIN_SEEDS[:1] if quick else REID_TRAIN_SEEDS
    frames, objects, size = (40, 5, (320, 240)) if quick else (300, 15, (640, 480))
    generated_sequences(os.path.join(root, 'seqs'), seeds, frames, objects, *size)
    market = os.path.join(root, 'market')
    if not os.path.isdir(market):
        reid_crops.export([os.path.join(root, 'seqs')], market, eval_seqs=1 if quick else 4, progress=False)
    print(f'  training the descriptor on {2 * len(seeds)} generated sequences (seeds {seeds[0]}-{seeds[-1]})',
          flush=True)
    train.train(market, os.path.join(root, 'run'), epochs=1 if quick else REID_EPOCHS, input_size=(64, 32),
                width=16, device='cpu', eval_every=3)
    return best


def run_accuracy(seqs, subsets, work, rows, embedder, tag, reuse=None):
    """Run every tracker of ``rows`` (name -> adapter factory) over the sequences and evaluate.

    Tables per subset (a sequence belongs to subset s when '-S-' (upper case) is in its name) and 'all'.
    ``reuse``: {tracker name: table} measured earlier on the same sequences, taken as they are.
    """
    from perception_deepsort.mot import evaluate

    print(f'  {len(seqs)} sequences; embedding detections with {tag}', flush=True)
    embeddings = {name: embed_sequence(folder, embedder, f'{folder}.{tag}.npz') for name, folder in seqs.items()}
    results = {}
    for tracker_name, factory in rows.items():
        if reuse and tracker_name in reuse:
            results[tracker_name] = reuse[tracker_name]
            print(f'  {tracker_name}: taken from --peers-from', flush=True)
            continue
        out_dir = os.path.join(work, str(len(results)))
        start = time.perf_counter()
        for name, folder in seqs.items():
            run_tracker(factory(), folder, embeddings[name], os.path.join(out_dir, name + '.txt'))
        elapsed = time.perf_counter() - start
        table = {}
        for subset in (*subsets, 'all'):
            pairs = {n: (f, os.path.join(out_dir, n + '.txt')) for n, f in seqs.items()
                     if subset == 'all' or f'-{subset.upper()}-' in n}
            metrics = evaluate.evaluate(pairs)
            table[subset] = metrics.get(evaluate.COMBINED, next(iter(metrics.values())))
        table['tracker_seconds'] = elapsed
        results[tracker_name] = table
        row = table['all']
        print(f'  {tracker_name}: IDF1 {100 * row["IDF1"]:.1f} HOTA {100 * row["HOTA"]:.1f} '
              f'MOTA {100 * row["MOTA"]:.1f} IDSW {row["IDSW"]} FN {row["FN"]}', flush=True)
    return results


def create_default_embedder(embedder_name):
    """The default embedder of the accuracy runs (computed once per sequence, shared by the appearance trackers)."""
    from perception_deepsort.reid.embedders import create_embedder
    return create_embedder(embedder_name, device='cpu')


def cnn_embedder(weights):
    """The trained descriptor and its cache tag (the weights' digest)."""
    import hashlib

    from perception_deepsort.reid.embedders import create_embedder

    with open(weights, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:10]
    return create_embedder('cnn', weights=weights, device='cpu'), f'cnn-{digest}'


def walking_sequences(root, seeds, frames):
    """{name: folder} of a distinct and a uniform-grey walking sequence per seed, generated once."""
    from perception_deepsort.mot import synthetic_walking

    seqs = {}
    for appearance in ('distinct', 'uniform'):
        for seed in seeds:
            cfg = synthetic_walking.WalkingConfig(frames=frames, seed=seed * 1000, appearance=appearance)
            folder = os.path.join(root, f'{synthetic_walking.sequence_name(appearance, seed)}-{frames}f{cfg.width}')
            if not os.path.isfile(os.path.join(folder, 'seqinfo.ini')):
                synthetic_walking.write_sequence(folder, cfg, progress=False)
            seqs[os.path.basename(folder)] = folder
    return seqs


def group_sequences(group, data_dir, seeds, frames, objects, size):
    """The sequences of one benchmark group (generated once under data_dir)."""
    if group == 'dashcam':
        return dashcam_sequences(data_dir, seeds, frames, *DASHCAM_SIZE)
    if group == 'walking':
        return walking_sequences(data_dir, seeds, frames)
    appearances = ('uniform', 'lookalike') if group == 'uninformative' else ('distinct',)
    return generated_sequences(data_dir, seeds, frames, objects, *size,
                               suffix=f'-{frames}f{objects}o{size[0]}x{size[1]}', appearances=appearances)


def earlier_peers(path, group, key, sequences):
    """{peer name: table} of an earlier report on exactly these sequences (empty without one)."""
    if not path:
        return {}
    with open(path, encoding='utf8') as f:
        earlier = json.load(f)['groups'].get(group, {})
    if earlier.get(key + '_sequences') != sequences:
        return {}
    return {name: table for name, table in earlier.get(key, {}).items() if name in OTHERS}


# --------------------------------------------------------------------------- whole process

def run_process_speed(seq_dirs, work, embedder_name):
    """Wall-clock frames/s of perception-track-mot (default config, given embedder, CPU) over the sequences."""
    from perception_deepsort.mot import io
    frames = sum(io.read_seqinfo(s).length for s in seq_dirs)
    cmd = [sys.executable, '-m', 'perception_deepsort.mot.track', '--out-dir', os.path.join(work, 'process'),
           '--no-progress', '--embedder', embedder_name] + [a for s in seq_dirs for a in ('--seq-dir', s)]
    env = {**os.environ, 'CUDA_VISIBLE_DEVICES': ''}
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode:
        raise RuntimeError(f'perception-track-mot failed:\n{out.stderr}')
    return {'frames': frames, 'seconds': elapsed, 'fps': frames / elapsed,
            'tool_report': out.stdout.strip().splitlines()[-1]}


# --------------------------------------------------------------------------- report

def machine_info():
    """CPU, cores and library versions for the JSON."""
    import boxmot
    import torch
    model = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')),
                 platform.processor())
    return {'cpu': model, 'cores': os.cpu_count(), 'python': platform.python_version(), 'numpy': np.__version__,
            'torch': torch.__version__, 'boxmot': boxmot.__version__,
            'note': 'shared machine: absolute timings are noisy, compare rows of the same run'}


def speed_table(rows):
    """Markdown table of the tracker-only speed."""
    lines = ['| objects/frame | ours default (fps) | ours paper (fps) | deep-sort-realtime (fps) | speed-up |',
             '|---|---|---|---|---|']
    for n, r in rows.items():
        lines.append(f'| {n} | {r["ours"]:.0f} | {r["ours_paper"]:.0f} | {r["deep_sort_realtime"]:.0f} | '
                     f'{r["speedup"]:.1f}x |')
    return '\n'.join(lines)


def accuracy_table(results, subsets):
    """Markdown table: IDF1/MOTA/IDSW per tracker for each subset, and IDF1/HOTA/MOTA/IDSW/FN/FP for all."""
    head = ['tracker'] + [f'{s} {m}' for s in subsets for m in ('IDF1', 'MOTA', 'IDSW')]
    head += ['all IDF1', 'all HOTA', 'all MOTA', 'all IDSW', 'all FN', 'all FP']
    lines = ['| ' + ' | '.join(head) + ' |', '|---' * len(head) + '|']
    for name, table in results.items():
        cells = []
        for subset in subsets:
            r = table[subset]
            cells += [f'{100 * r["IDF1"]:.1f}', f'{100 * r["MOTA"]:.1f}', str(r['IDSW'])]
        r = table['all']
        cells += [f'{100 * r["IDF1"]:.1f}', f'{100 * r["HOTA"]:.1f}', f'{100 * r["MOTA"]:.1f}', str(r['IDSW']),
                  str(r['FN']), str(r['FP'])]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def accuracy_goals(accuracy, ours, idf1_lead=2.0, suffix=''):
    """The issue's goals on one set of sequences: ours vs the best of the boxmot peers (missed boxes: ByteTrack)."""
    others = [accuracy[k]['all'] for k in OTHERS if k in accuracy]
    if ours not in accuracy or not others:
        return {}
    row = accuracy[ours]['all']
    best_idf1 = max(o['IDF1'] for o in others)
    best_idsw = min(o['IDSW'] for o in others)
    best_mota = max(o['MOTA'] for o in others)
    return {
        f'IDF1 >= best other + {idf1_lead:g}{suffix}': [
            f'{100 * row["IDF1"]:.1f} vs {100 * best_idf1:.1f}', row['IDF1'] >= best_idf1 + idf1_lead / 100],
        f'ID switches <= best other{suffix}': [f'{row["IDSW"]} vs {best_idsw}', row['IDSW'] <= best_idsw],
        f'MOTA >= best other - 1{suffix}': [
            f'{100 * row["MOTA"]:.1f} vs {100 * best_mota:.1f}', row['MOTA'] >= best_mota - 0.01],
        **({f'missed boxes <= ByteTrack{suffix}': [f'{row["FN"]} vs {accuracy[BYTETRACK]["all"]["FN"]}',
                                                   row['FN'] <= accuracy[BYTETRACK]['all']['FN']]}
           if BYTETRACK in accuracy else {}),
    }


def goals(speed, groups, process):
    """The issue's goals, each with the measured value and whether it is met."""
    out = {}
    if speed and 50 in speed:
        out['tracker >= 1000 fps at 50 objects'] = [round(speed[50]['ours']), speed[50]['ours'] >= 1000]
    for group, result in groups.items():
        ours = {'cnn': TRAINED, 'dashcam': DASHCAM}.get(group, DEFAULT)
        lead = 10.0 if group == 'people' else 2.0
        for key, label in (('trackers', ''), ('heldout', ', held-out seeds')):
            for goal, value in accuracy_goals(result[key], ours, lead, label).items():
                out[f'{group}: {goal}'] = value
    if process:
        out['perception-track-mot >= 50 fps'] = [round(process['fps'], 1), process['fps'] >= 50]
    return out


def main(argv=None):
    """Run all benchmark parts and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='tiny smoke run (seconds): not for the README')
    parser.add_argument('--out', help='JSON output (default benchmarks/results/tracker.json; '
                                      'with --quick a file in the temp folder)')
    parser.add_argument('--data-dir', default=os.path.join(tempfile.gettempdir(), 'bench_tracker_data'),
                        help='where generated sequences and their embeddings are cached')
    parser.add_argument('--seeds', type=int, nargs='*', default=[1, 2, 3],
                        help='sequence seeds per camera mode (the defaults were tuned on these; none: skip)')
    parser.add_argument('--heldout-seeds', type=int, nargs='*', default=[4, 5, 6],
                        help='seeds no setting was tuned on, evaluated apart (none: skip)')
    parser.add_argument('--reid-weights', metavar='CKPT',
                        help='descriptor checkpoint for the trained-CNN rows (default: train one on generated '
                             'sequences of seeds 101-112, cached in --data-dir; ~12 min on 2 CPU cores)')
    parser.add_argument('--groups', nargs='+', choices=list(GROUPS), default=list(GROUPS),
                        help='accuracy groups to run (cnn trains a descriptor first unless --reid-weights)')
    parser.add_argument('--trackers', nargs='*', metavar='SUBSTRING',
                        help='only the trackers whose name contains one of these (plus ours default and the '
                             'boxmot trackers)')
    parser.add_argument('--peers-from', metavar='JSON',
                        help='take the boxmot rows from an earlier report of the same groups and seeds (they do '
                             'not depend on our settings; Deep OC-SORT and Hybrid-SORT need ~0.2 s a frame)')
    parser.add_argument('--only-peers', action='store_true', help='run the boxmot rows only')
    parser.add_argument('--skip-peers', action='store_true',
                        help='no boxmot rows (except those taken from --peers-from)')
    parser.add_argument('--skip-speed', action='store_true', help='no tracker-only speed part')
    parser.add_argument('--skip-process', action='store_true', help='no whole-process speed part')
    parser.add_argument('--seq-frames', type=int, help='frames per generated sequence (default 300)')
    parser.add_argument('--dim', type=int, default=128, help='embedding size for the speed test')
    parser.add_argument('--speed-worker', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--objects', type=int, nargs='+', default=[50], help=argparse.SUPPRESS)
    parser.add_argument('--frames', type=int, default=300, help=argparse.SUPPRESS)
    parser.add_argument('--core', type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.speed_worker:
        return speed_worker(args)

    if args.quick:
        # Smoke run: histogram embedder so no network has to load.
        speed_objects, speed_frames, embedder = [10, 50], 20, 'histogram'
        seeds, frames, objects, size = args.seeds[:1], 20, 5, (320, 240)
        heldout_seeds = args.heldout_seeds[:1]
    else:
        speed_objects, speed_frames, embedder = [10, 50, 200], 150, DEFAULT_EMBEDDER
        seeds, frames, objects, size = args.seeds, 300, 15, (640, 480)
        heldout_seeds = args.heldout_seeds
    frames = args.seq_frames or frames
    if args.out is None:
        args.out = (os.path.join(tempfile.gettempdir(), 'bench_tracker_quick.json') if args.quick
                    else os.path.join(HERE, 'results', 'tracker.json'))
    report = {'machine': machine_info(), 'quick': args.quick, 'groups': {}}
    data_dir = os.path.join(args.data_dir, 'quick' if args.quick else 'full')
    speed, process, process_seqs = {}, {}, []
    with tempfile.TemporaryDirectory(prefix='bench_tracker_') as work:
        if not args.skip_speed:
            print('Tracker-only speed (one core, embeddings given):', flush=True)
            speed = run_speed(speed_objects, speed_frames, args.dim)
            report['speed'] = {'objects_per_frame': speed, 'frames': speed_frames, 'embedding_dim': args.dim}
        default_embedder = create_default_embedder(embedder)
        for group in args.groups:
            title, subsets = GROUPS[group]
            if group == 'cnn':
                weights = args.reid_weights or trained_reid_weights(data_dir, args.quick)
                group_embedder, tag = cnn_embedder(weights)
            else:
                group_embedder, tag = default_embedder, embedder
            rows = {name: factory for name, factory in variants(group).items()
                    if not args.trackers or name in (DEFAULT, TRAINED, DASHCAM, *OTHERS)
                    or any(t in name for t in args.trackers)}
            if args.only_peers:
                rows = {name: factory for name, factory in rows.items() if name in OTHERS}
            result = {}
            for key, group_seeds in (('trackers', seeds), ('heldout', heldout_seeds)):
                if not group_seeds:
                    result[key], result[key + '_sequences'] = {}, []
                    continue
                print(f'Accuracy, {title}, {"held-out " if key == "heldout" else ""}seeds {group_seeds}:', flush=True)
                seqs = group_sequences(group, data_dir, group_seeds, frames, objects, size)
                reuse = earlier_peers(args.peers_from, group, key, sorted(seqs))
                key_rows = ({name: f for name, f in rows.items() if name not in OTHERS or name in reuse}
                            if args.skip_peers else rows)
                result[key] = run_accuracy(seqs, subsets, os.path.join(work, group, key), key_rows, group_embedder,
                                           tag, reuse)
                result[key + '_sequences'] = sorted(seqs)
                if group == 'people' and key == 'trackers':
                    process_seqs = [seqs[n] for n in sorted(seqs) if '-STATIC-' in n][:1] + \
                                   [seqs[n] for n in sorted(seqs) if '-PAN-' in n][:1]
            result.update(title=title, subsets=list(subsets), seeds=seeds, heldout_seeds=heldout_seeds, frames=frames,
                          embedder=tag)
            report['groups'][group] = result
        if not args.skip_process and process_seqs:
            print('Whole-process speed of perception-track-mot:', flush=True)
            process = run_process_speed(process_seqs, work, embedder)
            report['process'] = {'sequences': [os.path.basename(s) for s in process_seqs], 'embedder': embedder,
                                 **process}
    report['goals'] = goals(speed, report['groups'], process)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf8') as f:
        json.dump(report, f, indent=2, default=float)
    if speed:
        print('\n### Tracker-only speed (frames/s, one core, %d-d embeddings)\n' % args.dim)
        print(speed_table(speed))
    for group, result in report['groups'].items():
        for key, label in (('trackers', f'tuning seeds {seeds}'),
                           ('heldout', f'held-out seeds {heldout_seeds}: nothing was tuned on them')):
            if result[key]:
                print(f'\n### {result["title"]} ({len(result[key + "_sequences"])} sequences, {frames} frames, '
                      f'{label})\n')
                print(accuracy_table(result[key], result['subsets']))
    if process:
        print(f'\n### perception-track-mot whole process (default config, {embedder} embedder, CPU)\n\n'
              f'{process["frames"]} frames in {process["seconds"]:.1f} s: {process["fps"]:.1f} frames/s\n')
    print('\n### Goals\n')
    for goal, (value, met) in report['goals'].items():
        print(f'- {goal}: {value} ({"met" if met else "NOT met"})')
    print(f'\nwrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.path.insert(0, HERE)
    sys.exit(main())
