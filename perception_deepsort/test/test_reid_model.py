"""Descriptor network, cosine-softmax head and checkpoint files."""

import pytest
import torch

from perception_deepsort.reid.checkpoints import (
    ReidWeightsError, build_training_model, default_config, load_checkpoint, load_descriptor, save_checkpoint,
)
from perception_deepsort.reid.embedders import create_embedder
from perception_deepsort.reid.model import CosineSoftmaxHead, ReidNet


def test_reidnet_outputs_unit_128d_features():
    torch.manual_seed(0)
    net = ReidNet().eval()
    with torch.inference_mode():
        features = net(torch.randn(3, 3, 128, 64))
    assert features.shape == (3, 128)
    assert torch.allclose(features.norm(dim=1), torch.ones(3), atol=1e-5)
    # The paper's network has about 2.8 million parameters.
    assert 2.5e6 < sum(p.numel() for p in net.parameters()) < 3.1e6


def test_cosine_softmax_logits_are_scaled_cosines():
    head = CosineSoftmaxHead(feature_dim=4, num_classes=2)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 2.0, 0, 0]]))
    logits = head(torch.tensor([[1.0, 0, 0, 0]]))
    kappa = torch.nn.functional.softplus(head.raw_scale)
    assert torch.allclose(logits, torch.stack([kappa, torch.tensor(0.0)]).view(1, 2), atol=1e-6)


def test_checkpoint_round_trip(tmp_path):
    config = default_config(num_classes=5)
    model = build_training_model(config)
    path = tmp_path / 'model.pt'
    save_checkpoint(path, model, config, epoch=3)
    checkpoint = load_checkpoint(path)
    assert checkpoint['epoch'] == 3 and checkpoint['config'] == config
    net, loaded_config = load_descriptor(path)
    assert loaded_config['feature_dim'] == 128
    for key, value in model.net.state_dict().items():
        assert torch.equal(net.state_dict()[key], value)


def test_missing_checkpoint_names_path(tmp_path):
    path = tmp_path / 'nowhere.pt'
    with pytest.raises(ReidWeightsError, match='nowhere.pt.*expected a perception-train-reid checkpoint'):
        create_embedder('cnn', weights=str(path))


def test_corrupt_checkpoint_names_path(tmp_path):
    path = tmp_path / 'corrupt.pt'
    path.write_bytes(b'this is not a checkpoint')
    with pytest.raises(ReidWeightsError, match='corrupt.pt'):
        load_checkpoint(path)
    truncated = tmp_path / 'truncated.pt'
    config = default_config(num_classes=2)
    save_checkpoint(tmp_path / 'good.pt', build_training_model(config), config, epoch=1)
    truncated.write_bytes((tmp_path / 'good.pt').read_bytes()[:2000])
    with pytest.raises(ReidWeightsError, match='truncated.pt'):
        create_embedder('cnn', weights=str(truncated))


def test_wrong_architecture_and_plain_state_dict_rejected(tmp_path):
    plain = tmp_path / 'plain.pt'
    torch.save(ReidNet().state_dict(), plain)
    with pytest.raises(ReidWeightsError, match='plain.pt is not a perception-train-reid checkpoint'):
        load_checkpoint(plain)
    other = tmp_path / 'other.pt'
    torch.save({'state_dict': {}, 'config': {'arch': 'resnet50'}}, other)
    with pytest.raises(ReidWeightsError, match="other.pt holds architecture 'resnet50'"):
        load_checkpoint(other)
    mismatched = tmp_path / 'mismatched.pt'
    config = default_config(num_classes=3)
    save_checkpoint(mismatched, build_training_model(config), {**config, 'feature_dim': 64}, epoch=1)
    with pytest.raises(ReidWeightsError, match='mismatched.pt: weights do not fit'):
        load_descriptor(mismatched)


def test_cnn_embedder_requires_weights():
    with pytest.raises(ReidWeightsError, match='needs weights'):
        create_embedder('cnn')


def test_cnn_embedder_from_checkpoint(tmp_path):
    config = default_config(num_classes=4)
    save_checkpoint(tmp_path / 'c.pt', build_training_model(config), config, epoch=1)
    embedder = create_embedder('cnn', weights=str(tmp_path / 'c.pt'), device='cpu')
    image = torch.randint(0, 256, (100, 80, 3), dtype=torch.uint8).numpy()
    features = embedder.embed(image, [[0, 0, 40, 90], [10, 10, 70, 100]])
    assert features.shape == (2, 128) and embedder.dim == 128 and embedder.needs_image
    assert abs(float((features ** 2).sum(1)[0]) - 1) < 1e-5


def test_width_scales_the_network_and_round_trips(tmp_path):
    narrow = ReidNet(input_size=(64, 32), width=8)
    paper = ReidNet(input_size=(64, 32))
    assert sum(p.numel() for p in narrow.parameters()) < sum(p.numel() for p in paper.parameters()) / 6
    config = default_config(num_classes=3, input_size=(64, 32), width=8)
    save_checkpoint(tmp_path / 'narrow.pt', build_training_model(config), config, epoch=1)
    embedder = create_embedder('cnn', weights=str(tmp_path / 'narrow.pt'), device='cpu')
    assert embedder.embed_crops([torch.zeros(50, 20, 3, dtype=torch.uint8).numpy()]).shape == (1, 128)
    # Checkpoints written before 'width' existed hold the paper's network.
    old = {k: v for k, v in default_config(num_classes=3).items() if k != 'width'}
    save_checkpoint(tmp_path / 'old.pt', build_training_model(default_config(num_classes=3)), old, epoch=1)
    net, _ = load_descriptor(tmp_path / 'old.pt')
    assert 2.5e6 < sum(p.numel() for p in net.parameters()) < 3.1e6
