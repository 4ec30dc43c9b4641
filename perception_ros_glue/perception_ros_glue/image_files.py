"""Image files to pixels, the one way every tool reads them (OpenCV decodes BGR; we use RGB)."""
import cv2
import numpy as np


def read_rgb(path) -> np.ndarray | None:
    """An image file as HxWx3 uint8 RGB; None when it is missing or not a readable image (each
    caller raises the error that names its own input)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
