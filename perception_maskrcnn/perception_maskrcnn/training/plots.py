"""Training figures: train/validation loss curves (the paper's loss plots)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use('Agg')  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402


def plot_losses(history: list[dict], path: Path) -> Path:
    """Total loss per epoch (train and validation) and the train loss components, as a PNG."""
    epochs = [h['epoch'] for h in history]
    figure, (total, parts) = plt.subplots(1, 2, figsize=(11, 4))
    total.plot(epochs, [h['train_loss'] for h in history], 'o-', label='train')
    total.plot(epochs, [h['val_loss'] for h in history], 's-', label='validation')
    total.set(xlabel='epoch', ylabel='total loss', title='Mask R-CNN loss')
    total.legend()
    for name in sorted(history[0]['train_components']):
        parts.plot(epochs, [h['train_components'][name] for h in history], '.-', label=name)
    parts.set(xlabel='epoch', ylabel='loss', title='training loss components')
    parts.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
