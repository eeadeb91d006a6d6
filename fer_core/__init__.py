"""fer-tui's engine: config, data, models, training, checkpoints. Never imports textual."""

__version__ = "0.1.0"

CLASS_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SIZE = 48
