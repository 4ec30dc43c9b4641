"""Training curves of perception-train-reid as a PNG (matplotlib, no display needed)."""

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def plot_training_curves(history, path):
    """Plot loss and accuracy (plus rank-1/mAP when evaluated) per epoch into ``path``."""
    epochs = [row['epoch'] for row in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, [row['loss'] for row in history], marker='o')
    ax_loss.set(xlabel='epoch', ylabel='cross-entropy loss', title='training loss')
    ax_acc.plot(epochs, [row['accuracy'] for row in history], marker='o', label='train accuracy')
    for key, label in (('rank1', 'rank-1'), ('mAP', 'mAP')):
        points = [(row['epoch'], row[key]) for row in history if row.get(key) is not None]
        if points:
            ax_acc.plot(*zip(*points), marker='s', label=f'{label} (query/gallery)')
    ax_acc.set(xlabel='epoch', ylabel='fraction', ylim=(0, 1), title='accuracy')
    ax_acc.legend(loc='lower right')
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
