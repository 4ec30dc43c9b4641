"""Training, resuming and evaluating the descriptor network on a tiny synthetic market."""

import json

import pytest

from perception_deepsort.reid.checkpoints import build_training_model, default_config, load_checkpoint, save_checkpoint
from perception_deepsort.reid.embedders import create_embedder
from perception_deepsort.training.evaluate import evaluate_embedder
from perception_deepsort.training.evaluate import main as eval_main
from perception_deepsort.training.market1501 import load_dataset
from perception_deepsort.training.synthetic_market import make_market
from perception_deepsort.training.train import main as train_main
from perception_deepsort.training.train import train

# Enough epochs for the descriptor to beat histograms on every market seed tried (3-7).
EPOCHS = 10
# Small images keep this fast; evaluation only after the last epoch.
SIZE = (64, 32)
COMMON = {'batch_size': 16, 'lr': 2e-3, 'device': 'cpu', 'seed': 0, 'input_size': SIZE, 'eval_every': EPOCHS}


@pytest.fixture(scope='module')
def market(tmp_path_factory):
    root = tmp_path_factory.mktemp('market')
    make_market(str(root), ids=24, cameras=2, images_per_camera=3, distractors=2, seed=3, size=SIZE, progress=False)
    return str(root)


@pytest.fixture(scope='module')
def trained(market, tmp_path_factory):
    out = tmp_path_factory.mktemp('run')
    return train(market, str(out), epochs=EPOCHS, **COMMON), out


def test_training_writes_checkpoints_metrics_and_curves(trained):
    result, out = trained
    assert [row['epoch'] for row in result['history']] == list(range(1, EPOCHS + 1))
    assert result['history'][-1]['loss'] < result['history'][0]['loss']
    checkpoint = load_checkpoint(out / 'last.pt')
    assert checkpoint['epoch'] == EPOCHS and checkpoint['config']['num_classes'] == 12
    assert checkpoint['optimizer'] is not None and len(checkpoint['history']) == EPOCHS
    assert load_checkpoint(out / 'best.pt')['epoch'] <= EPOCHS
    assert (out / 'curves.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert len((out / 'metrics.csv').read_text().strip().splitlines()) == EPOCHS + 1
    # The reported final metrics are the returned ones, for the whole query set.
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['final'] == result['final'] and metrics['final']['num_queries'] == 24


def test_resume_repeats_the_uninterrupted_run(market, trained, tmp_path):
    result, _ = trained
    train(market, str(tmp_path), epochs=EPOCHS - 1, **COMMON)
    resumed = train(market, str(tmp_path), epochs=EPOCHS, resume=str(tmp_path / 'last.pt'), **COMMON)
    assert [row['epoch'] for row in resumed['history']] == list(range(1, EPOCHS + 1))
    assert resumed['history'][-1]['loss'] == pytest.approx(result['history'][-1]['loss'], rel=1e-3)
    assert load_checkpoint(tmp_path / 'last.pt')['epoch'] == EPOCHS


def test_training_improves_the_reported_metric_over_the_untrained_model(market, trained, tmp_path):
    dataset = load_dataset(market)
    config = default_config(num_classes=12, input_size=SIZE)
    save_checkpoint(tmp_path / 'untrained.pt', build_training_model(config), config, epoch=0)
    untrained = evaluate_embedder(create_embedder('cnn', str(tmp_path / 'untrained.pt'), 'cpu'), dataset,
                                  progress=False)
    result, out = trained
    learned = evaluate_embedder(create_embedder('cnn', str(out / 'last.pt'), 'cpu'), dataset, progress=False)
    # What training reports is what its last checkpoint measures ...
    assert result['final']['mAP'] == pytest.approx(learned['mAP'], abs=1e-6)
    assert result['final']['rank1'] == pytest.approx(learned['rank1'], abs=1e-6)
    # ... and beats the same network untrained. Margin: random conv features already capture
    # colour (untrained mAP is well above chance on these renders); 0.1 mAP is several queries'
    # worth on 24 queries, far beyond what seed noise moves.
    assert learned['mAP'] > untrained['mAP'] + 0.1, (learned, untrained)
    assert learned['rank1'] >= untrained['rank1'], (learned, untrained)


def test_trained_descriptor_beats_histograms_across_cameras(market, trained):
    # Where it should: the market's cameras differ in lighting and colour cast, which moves
    # colour histograms. Measured (10 epochs, market seeds 3-7): mAP 0.72 / 0.51 / 0.55 / 0.49 /
    # 0.58 against histograms' 0.24 / 0.18 / 0.35 / 0.47 / 0.24; this fixture is seed 3.
    dataset = load_dataset(market)
    histogram = evaluate_embedder(create_embedder('histogram'), dataset, progress=False)
    learned = evaluate_embedder(create_embedder('cnn', str(trained[1] / 'last.pt'), 'cpu'), dataset,
                                progress=False)
    assert learned['mAP'] > histogram['mAP'] + 0.2, (learned, histogram)
    assert learned['rank1'] > histogram['rank1'] + 0.2, (learned, histogram)


def test_cli_errors_are_clear(market, tmp_path, capsys):
    assert train_main(['--data', str(tmp_path / 'absent'), '--out', str(tmp_path / 'run')]) == 2
    assert 'absent: dataset folder not found' in capsys.readouterr().err
    other = tmp_path / 'other.pt'
    config = default_config(num_classes=99)
    save_checkpoint(other, build_training_model(config), config, epoch=1)
    assert train_main(['--data', market, '--out', str(tmp_path / 'run'), '--resume', str(other)]) == 2
    assert 'trained on 99 identities' in capsys.readouterr().err
    assert eval_main(['--data', market, '--weights', str(tmp_path / 'missing.pt')]) == 2
    assert 'missing.pt' in capsys.readouterr().err


def test_eval_cli_table_and_json(market, tmp_path, capsys):
    assert eval_main(['--data', market, '--embedder', 'histogram', '--json', str(tmp_path / 'm.json')]) == 0
    assert '| histogram |' in capsys.readouterr().out
    row = json.loads((tmp_path / 'm.json').read_text())
    assert 0 <= row['rank1'] <= row['rank5'] <= 1 and 0 <= row['mAP'] <= 1 and row['num_queries'] == 24
