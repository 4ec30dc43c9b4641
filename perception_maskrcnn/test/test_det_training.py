"""Training kit end to end: a short real CPU training run learns the synthetic data and its checkpoint loads."""
import json

import cv2
import numpy as np
import pytest
import torch

from perception_maskrcnn.backends import create_detector
from perception_maskrcnn.backends.maskrcnn import build_from_config
from perception_maskrcnn.training import evaluate, train
from perception_maskrcnn.training.dataset import CocoInstances
from perception_maskrcnn.training.synthetic_coco import make_dataset

# The session fixture trains for a few CPU minutes (shared by every test that needs the checkpoint).
pytestmark = pytest.mark.slow


def test_synthetic_dataset_masks_match_boxes(tmp_path):
    root = make_dataset(tmp_path, train=6, val=2, width=96, height=80, seed=3)
    data = CocoInstances(root, root / 'instances_train.json')
    assert data.class_names == ['__background__', 'car', 'person'] and len(data) == 6
    image, target = data[0]
    assert image.shape == (3, 80, 96) and image.dtype == torch.float32
    for box, mask in zip(target['boxes'], target['masks']):
        ys, xs = np.nonzero(mask.numpy())
        np.testing.assert_allclose(box.numpy(), [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])


def test_checkpoint_documents_the_paper_settings(synthetic_maskrcnn):
    checkpoint = torch.load(synthetic_maskrcnn.checkpoint, weights_only=True)
    config = checkpoint['config']
    assert config['class_names'] == ['__background__', 'car', 'person'] and config['num_classes'] == 3
    assert config['anchor_sizes'] == [32, 64, 128, 256, 512] and config['aspect_ratios'] == [0.5, 1.0, 2.0]
    assert config['model']['rpn_pre_nms_top_n_train'] == 2000
    assert config['model']['rpn_post_nms_top_n_train'] == 1000
    assert config['model']['image_mean'] == [0.485, 0.456, 0.406] and config['mask_roi_align_output'] == 14
    history = json.loads((synthetic_maskrcnn.run / 'history.json').read_text())
    assert history[-1]['train_loss'] < 0.6 * history[0]['train_loss']
    curves = cv2.imread(str(synthetic_maskrcnn.run / 'loss_curves.png'))
    assert curves is not None and curves.shape[1] > 500


def test_trained_model_beats_untrained_by_far(synthetic_maskrcnn, tmp_path):
    out = tmp_path / 'eval'
    assert evaluate.main(['--weights', str(synthetic_maskrcnn.checkpoint), '--data-root',
                          str(synthetic_maskrcnn.data_root), '--ann', str(synthetic_maskrcnn.val_ann),
                          '--out', str(out), '--device', 'cpu']) == 0
    trained = json.loads((out / 'metrics.json').read_text())
    assert cv2.imread(str(out / 'predictions.png')) is not None
    # Same architecture and config, weights as initialised: what training has to beat.
    checkpoint = torch.load(synthetic_maskrcnn.checkpoint, weights_only=True)
    torch.manual_seed(0)
    # Saved under the key older checkpoints used ('model'): those still load.
    checkpoint['model'] = build_from_config(checkpoint['config']).state_dict()
    del checkpoint['state_dict']
    untrained_path = tmp_path / 'untrained.pt'
    torch.save(checkpoint, untrained_path)
    untrained = evaluate.evaluate_detector(
        create_detector('maskrcnn', weights=untrained_path, device='cpu', score_threshold=0.05),
        synthetic_maskrcnn.data_root, synthetic_maskrcnn.val_ann)
    print('trained', trained['bbox'], 'untrained', untrained['bbox'])
    assert trained['bbox']['AP50'] > 0.3
    assert trained['bbox']['AP50'] > untrained['bbox']['AP50'] + 0.2
    assert trained['segm']['AP50'] > untrained['segm']['AP50'] + 0.1


def test_checkpoint_loads_as_a_detector(synthetic_maskrcnn):
    detector = create_detector('maskrcnn', weights=synthetic_maskrcnn.checkpoint, device='cpu',
                               classes=['car'])
    assert detector.class_names == ['__background__', 'car', 'person']
    data = CocoInstances(synthetic_maskrcnn.data_root, synthetic_maskrcnn.val_ann)
    dets = detector.detect(data.image(0))
    assert set(dets.labels()) <= {'car'} and len(dets.masks) == len(dets)


def test_resume_continues_from_last_checkpoint(synthetic_maskrcnn, tmp_path):
    last = torch.load(synthetic_maskrcnn.run / 'last.pt', weights_only=True)
    args = ['--data-root', str(synthetic_maskrcnn.data_root), '--train-ann', str(synthetic_maskrcnn.train_ann),
            '--val-ann', str(synthetic_maskrcnn.val_ann), '--out', str(tmp_path), '--workers', '0',
            '--device', 'cpu', '--batch-size', '4', '--resume', str(synthetic_maskrcnn.run / 'last.pt'),
            '--epochs', str(last['epoch'] + 1)]
    assert train.main(args) == 0
    resumed = json.loads((tmp_path / 'history.json').read_text())
    assert [h['epoch'] for h in resumed] == list(range(1, last['epoch'] + 2))
    assert resumed[:-1] == json.loads((synthetic_maskrcnn.run / 'history.json').read_text())


def test_training_user_errors_exit_2(tmp_path, capsys):
    code = train.main(['--data-root', str(tmp_path), '--train-ann', str(tmp_path / 'missing.json'),
                       '--val-ann', str(tmp_path / 'missing.json'), '--out', str(tmp_path / 'run')])
    assert code == 2 and f'annotation file not found: {tmp_path / "missing.json"}' in capsys.readouterr().err


def test_detect_tool_writes_masks_with_the_trained_checkpoint(synthetic_maskrcnn, tmp_path):
    from perception_maskrcnn.tools import detect
    out, masks = tmp_path / 'det.txt', tmp_path / 'masks'
    assert detect.main(['--backend', 'maskrcnn', '--weights', str(synthetic_maskrcnn.checkpoint),
                        '--input', str(synthetic_maskrcnn.data_root / 'val'), '--out', str(out),
                        '--masks-dir', str(masks), '--device', 'cpu']) == 0
    rows = np.loadtxt(out, delimiter=',', ndmin=2)
    assert len(rows) > 0 and rows[:, 0].min() >= 1
    first = int(rows[0, 0])
    saved = np.load(masks / f'{first:06d}.npz')
    assert len(saved['boxes']) == np.sum(rows[:, 0] == first)
    assert list(saved['class_names']) == ['__background__', 'car', 'person']
    window = saved['mask_0']
    assert window.dtype == bool and window.shape[0] >= 1 and tuple(saved['origins'][0]) >= (0, 0)
