"""perception-train-maskrcnn: train torchvision Mask R-CNN on a COCO-format dataset.

Defaults are the paper's settings (He et al., Mask R-CNN): ImageNet mean/std, short side 800
(long side at most 1333), anchors 32-512 over the 5 FPN levels with ratios 0.5/1/2, RPN
pre/post-NMS 2000/1000 proposals in training, 256 sampled anchors per image for the RPN and
512 sampled RoIs for the box head, RoIAlign 14x14 for the mask head. All of them are written
into the checkpoint's ``config`` so a run documents itself.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..backends.device import resolve_device
from ..backends.maskrcnn import ARCHITECTURES, build_from_config, load_weights
from ..backends.maskrcnn_lite import ARCH as LITE_ARCH, DEFAULT_LITE
from ..backends.weights import WeightsError, existing_file, load_torch_file, state_dict_of
from .dataset import CocoInstances, collate
from .plots import plot_losses

# Heads whose shape depends on the number of classes: re-initialised when fine-tuning.
CLASS_HEADS = ('roi_heads.box_predictor.', 'roi_heads.mask_predictor.mask_fcn_logits.')
BACKBONE_LAYERS = ('layer4', 'layer3', 'layer2', 'layer1', 'conv1')


def paper_config(args, class_names: list[str]) -> dict:
    """Everything needed to rebuild the model, with the paper's settings stated explicitly."""
    return {
        'arch': LITE_ARCH if args.lite else ARCHITECTURES['maskrcnn_v2' if args.v2 else 'maskrcnn'][2],
        'lite': dict(DEFAULT_LITE) if args.lite else None,
        'class_names': class_names,
        'num_classes': len(class_names),
        'anchor_sizes': [32, 64, 128, 256, 512],  # one size per FPN level P2..P6
        'aspect_ratios': [0.5, 1.0, 2.0],
        'mask_roi_align_output': 14,  # torchvision's MaskRCNN default, checked in build_model
        'model': {
            'min_size': args.min_size, 'max_size': args.max_size,
            'image_mean': [0.485, 0.456, 0.406], 'image_std': [0.229, 0.224, 0.225],
            'rpn_pre_nms_top_n_train': 2000, 'rpn_post_nms_top_n_train': 1000,
            'rpn_pre_nms_top_n_test': 1000, 'rpn_post_nms_top_n_test': 1000,
            'rpn_batch_size_per_image': args.rpn_batch_size, 'box_batch_size_per_image': args.box_batch_size,
        },
        'trainable_backbone_layers': args.trainable_backbone_layers,
        'init': 'coco:' + str(args.from_coco_weights) if args.from_coco_weights else 'scratch',
        'epochs': args.epochs, 'batch_size': args.batch_size, 'lr': args.lr,
        'momentum': 0.9, 'weight_decay': 1e-4,
    }


def build_model(config: dict) -> torch.nn.Module:
    """The Mask R-CNN described by a training config."""
    model = build_from_config(config)
    assert model.roi_heads.mask_roi_pool.output_size == (config['mask_roi_align_output'],) * 2
    return model


def load_coco_init(model: torch.nn.Module, backend: str, weights) -> None:
    """Start from COCO weights (name or .pth): everything but the class-specific predictor heads."""
    state, _, _, label = load_weights(backend, weights, allow_random_init=False)
    state = {k: v for k, v in state.items() if not k.startswith(CLASS_HEADS)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith(CLASS_HEADS) and 'num_batches_tracked' not in k for k in missing):
        raise WeightsError(f'{label}: does not fit {backend} (missing {missing[:3]}, unexpected {unexpected[:3]})')


def freeze_backbone(model: torch.nn.Module, trainable_layers: int) -> list[torch.nn.Module]:
    """torchvision's fine-tuning set-up: train the last ``trainable_layers`` ResNet stages only and
    keep every backbone BatchNorm fixed (as FrozenBatchNorm2d would); returns those BatchNorms."""
    trainable = BACKBONE_LAYERS[:trainable_layers]
    for name, parameter in model.backbone.body.named_parameters():
        if not name.startswith(trainable):
            parameter.requires_grad_(False)
    norms = [m for m in model.backbone.body.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.requires_grad_(False)
    return norms


def set_train_mode(model: torch.nn.Module, frozen_norms, train: bool = True) -> None:
    """Train mode except for frozen BatchNorms, which keep their statistics (like FrozenBatchNorm)."""
    model.train(train)
    for norm in frozen_norms:
        norm.eval()


def lr_factor(iteration: int, total: int, warmup: int) -> float:
    """Linear warm-up, then step decay x0.1 at 75% and 90% of training (Detectron's schedule shape)."""
    if iteration < warmup:
        return 0.001 + (1 - 0.001) * iteration / warmup
    return 0.1 ** sum(iteration >= total * f for f in (0.75, 0.9))


def run_epoch(model, loader, device, frozen_norms, optimizer=None, scheduler=None, desc='') -> dict:
    """One pass over ``loader``; trains when an optimizer is given, else only measures the losses."""
    training = optimizer is not None
    # torchvision returns losses only in train mode; validation keeps all BatchNorms fixed.
    set_train_mode(model, frozen_norms if training else [m for m in model.modules()
                                                         if isinstance(m, torch.nn.BatchNorm2d)])
    sums, count = {}, 0
    progress = tqdm(loader, desc=desc, unit='batch', leave=False)
    for images, targets in progress:
        images = [image.to(device) for image in images]
        targets = [{k: v.to(device) if torch.is_tensor(v) else v for k, v in t.items()} for t in targets]
        with torch.set_grad_enabled(training):
            losses = model(images, targets)
            loss = sum(losses.values())
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f'loss became {loss.item()} ({ {k: v.item() for k, v in losses.items()} }); '
                                     f'lower --lr')
        if training:
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            optimizer.step()
            scheduler.step()
        count += 1
        for name, value in losses.items():
            sums[name] = sums.get(name, 0.0) + value.item()
        progress.set_postfix(loss=f'{sum(sums.values()) / count:.3f}')
    return {name: value / max(count, 1) for name, value in sums.items()}


def train(args) -> Path:
    """Train (or resume) and write checkpoints, loss history and the loss-curve PNG to ``args.out``."""
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    device = resolve_device(args.device)
    train_set = CocoInstances(args.data_root, args.train_ann, train=True)
    val_set = CocoInstances(args.data_root, args.val_ann)
    resume = load_torch_file(existing_file(args.resume, 'a perception-train-maskrcnn checkpoint'),
                             'a perception-train-maskrcnn checkpoint') if args.resume else None
    config = resume['config'] if resume else paper_config(args, train_set.class_names)
    if config['class_names'] != train_set.class_names:
        raise ValueError(f'{args.train_ann}: classes {train_set.class_names} differ from the '
                         f'checkpoint classes {config["class_names"]}')
    config['epochs'] = args.epochs
    model = build_model(config)
    if resume:
        model.load_state_dict(state_dict_of(resume, args.resume))
    elif args.from_coco_weights:
        if args.lite:
            raise ValueError('--from-coco-weights needs the full model: drop --lite')
        load_coco_init(model, 'maskrcnn_v2' if args.v2 else 'maskrcnn', args.from_coco_weights)
    # Freezing only makes sense for a pretrained backbone; from scratch everything must learn.
    frozen_norms = freeze_backbone(model, config['trainable_backbone_layers']) if config['init'] != 'scratch' else []
    model.to(device)
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                         num_workers=args.workers, collate_fn=collate,
                                         generator=torch.Generator().manual_seed(args.seed))
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=args.batch_size, num_workers=args.workers,
                                             collate_fn=collate)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=config['lr'], momentum=config['momentum'],
                                weight_decay=config['weight_decay'])
    total = args.epochs * len(loader)
    warmup = min(args.warmup_iters, total // 4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: lr_factor(i, total, warmup))
    history, start_epoch = [], 1
    if resume:
        optimizer.load_state_dict(resume['optimizer'])
        scheduler.load_state_dict(resume['scheduler'])
        history, start_epoch = resume['history'], resume['epoch'] + 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for epoch in tqdm(range(start_epoch, args.epochs + 1), desc='epochs', unit='epoch'):
        train_losses = run_epoch(model, loader, device, frozen_norms, optimizer, scheduler, f'train {epoch}')
        with torch.no_grad():
            val_losses = run_epoch(model, val_loader, device, frozen_norms, desc=f'val {epoch}')
        history.append({'epoch': epoch, 'train_loss': sum(train_losses.values()),
                        'val_loss': sum(val_losses.values()), 'train_components': train_losses,
                        'val_components': val_losses, 'lr': scheduler.get_last_lr()[0]})
        checkpoint = {'state_dict': model.state_dict(), 'config': config, 'epoch': epoch, 'history': history,
                      'optimizer': optimizer.state_dict(), 'scheduler': scheduler.state_dict()}
        torch.save(checkpoint, out / 'last.pt')
        if history[-1]['val_loss'] <= min(h['val_loss'] for h in history):
            torch.save({'state_dict': checkpoint['state_dict'], 'config': config, 'epoch': epoch}, out / 'best.pt')
        (out / 'history.json').write_text(json.dumps(history, indent=1))
        plot_losses(history, out / 'loss_curves.png')
        tqdm.write(f'epoch {epoch}: train loss {history[-1]["train_loss"]:.3f}  '
                   f'val loss {history[-1]["val_loss"]:.3f}')
    (out / 'config.json').write_text(json.dumps(config, indent=1))
    return out


def parse_args(argv=None):
    """Command-line options (defaults: the paper's settings)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--data-root', required=True, type=Path, help='folder the image file_names are relative to')
    parser.add_argument('--train-ann', required=True, type=Path, help='COCO instances JSON for training')
    parser.add_argument('--val-ann', required=True, type=Path, help='COCO instances JSON for validation')
    parser.add_argument('--out', required=True, type=Path, help='run folder (checkpoints, curves)')
    parser.add_argument('--epochs', type=int, default=12)
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--lr', type=float, default=0.0025, help='SGD learning rate (paper: 0.02 at batch 16)')
    parser.add_argument('--warmup-iters', type=int, default=500)
    parser.add_argument('--device', default='auto', help='auto|cpu|cuda|cuda:N')
    parser.add_argument('--workers', type=int, default=2, help='data loader processes')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--resume', type=Path, help='continue from a last.pt of an earlier run')
    init = parser.add_mutually_exclusive_group()
    init.add_argument('--from-coco-weights', metavar='PATH|NAME',
                      help="start from COCO weights: a torchvision .pth or 'DEFAULT' (downloads)")
    init.add_argument('--from-scratch', action='store_true', help='random initialisation (the default)')
    arch = parser.add_mutually_exclusive_group()
    arch.add_argument('--v2', action='store_true', help='maskrcnn_resnet50_fpn_v2 instead of v1')
    arch.add_argument('--lite', action='store_true',
                      help='reduced model (ResNet-18, 64-channel FPN, slim heads) for CPU trials and tests')
    parser.add_argument('--min-size', type=int, default=800, help='short image side after resizing')
    parser.add_argument('--max-size', type=int, default=1333, help='long image side limit')
    parser.add_argument('--trainable-backbone-layers', type=int, default=3, choices=range(6),
                        help='ResNet stages trained when starting from COCO weights')
    parser.add_argument('--rpn-batch-size', type=int, default=256, help='anchors sampled per image for the RPN')
    parser.add_argument('--box-batch-size', type=int, default=512, help='RoIs sampled per image for the box head')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point: train and report where the run went; user errors exit 2 without a traceback."""
    args = parse_args(argv)
    try:
        out = train(args)
    except (WeightsError, FileNotFoundError, ValueError) as error:
        print(f'perception-train-maskrcnn: error: {error}', file=sys.stderr)
        return 2
    print(f'checkpoints, history.json and loss_curves.png in {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
