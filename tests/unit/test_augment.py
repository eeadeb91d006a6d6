"""The augmentation policies: shapes, ranges, and that crop_flip only moves pixels."""

import numpy as np
import pytest

from fer_core.data import augment


@pytest.mark.parametrize("policy", augment.POLICIES)
def test_policies_give_normalised_model_input(policy):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (9, 48, 48), dtype=np.uint8)
    x = augment.augment_batch(images, rng, policy)
    assert x.shape == (9, 1, 48, 48) and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0


def test_crop_flip_is_a_window_of_the_padded_face_or_its_mirror():
    rng = np.random.default_rng(1)
    images = rng.integers(1, 256, (64, 48, 48), dtype=np.uint8)  # no zeros: padding is visible
    out = augment.crop_flip(images, rng)
    padded = np.pad(images, ((0, 0), (4, 4), (4, 4)))
    mirrored = shifted = 0
    for image, crop in zip(padded, out):
        windows = [
            (t, l, m)
            for t in range(9)
            for l in range(9)
            for m in (False, True)
            if np.array_equal(crop, image[t : t + 48, l : l + 48][:, ::-1] if m else image[t : t + 48, l : l + 48])
        ]
        assert windows, "every output is one window of the padded image"
        t, l, m = windows[0]
        mirrored += m
        shifted += (t, l) != (4, 4)
    assert 16 < mirrored < 48 and shifted > 48  # about half mirrored, most shifted


def test_crop_flip_is_reproducible_for_a_seed():
    images = np.random.default_rng(2).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    a = augment.crop_flip(images, np.random.default_rng(5))
    b = augment.crop_flip(images, np.random.default_rng(5))
    assert np.array_equal(a, b)
