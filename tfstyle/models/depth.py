"""The relative-depth hourglass of Chen, Fu, Yang & Deng (NIPS 2016, ``hourglass3.lua``).

Input RGB [0, 1] of any size (padded to a multiple of 16 and cropped back);
output one channel at input size, unbounded, larger = farther. Topology and
block table: Chen et al. 2016, supplementary fig. 1 (inception blocks A–G). Weights come from a local file
(``.weights.h5``, e.g. trained with ``python -m training.depth``) or are
random with an explicit ``weights=None``.
"""

from __future__ import annotations

from typing import Optional

import keras

from tfstyle.layers import CropLike, InceptionBlock, NearestUpsampling2D, PadToMultiple
from tfstyle.weights import load_into

# name: (c1, reduce, channels, kernels)  — the spec's block table
BLOCKS = {
    "A": (16, 64, 16, (3, 7, 11)),
    "B": (32, 32, 32, (3, 5, 7)),
    "C": (32, 64, 32, (3, 7, 11)),
    "D": (64, 32, 64, (3, 5, 7)),
    "E": (64, 32, 64, (3, 5, 7)),
    "F": (64, 64, 64, (3, 7, 11)),
    "G": (32, 32, 32, (3, 5, 7)),
}


def build_hourglass(weights: Optional[str], dtype=None, name: str = "hourglass") -> keras.Model:
    """The hourglass depth network: [N, H, W, 3] in [0, 1] → [N, H, W, 1].

    Args:
      weights: a ``.weights.h5`` file, or ``None`` for random weights.
    """

    def block(kind, reduce=None):
        c1, r, c, kernels = BLOCKS[kind]
        return InceptionBlock(c1, reduce or r, c, kernels, dtype=dtype)

    def chain(x, *kinds):
        for kind in kinds:
            x = block(*kind)(x) if isinstance(kind, tuple) else block(kind)(x)
        return x

    up = lambda x: NearestUpsampling2D(2, dtype=dtype)(x)  # noqa: E731
    add = lambda a, b: keras.layers.Add(dtype=dtype)([a, b])  # noqa: E731
    maxpool = lambda x: keras.layers.MaxPooling2D(2, dtype=dtype)(x)  # noqa: E731
    avgpool = lambda x: keras.layers.AveragePooling2D(2, dtype=dtype)(x)  # noqa: E731

    def ch1(x):  # 256 ch, 1/8 res
        return add(chain(x, "E", "E"), up(chain(avgpool(x), "E", "E", "E")))

    def ch2(x):  # 256 ch, 1/4 res
        return add(chain(x, "E", "F"), up(chain(ch1(chain(avgpool(x), "E", "E")), "E", "F")))

    def ch3(x):  # 128 ch, 1/2 res
        return add(chain(x, "B", "C"), up(chain(ch2(chain(maxpool(x), "B", "D")), "E", "G")))

    def ch4(x):  # 128 → 64 ch, full res
        inner = ch3(chain(maxpool(x), "B", "B"))
        return add(chain(x, "A"), up(chain(inner, ("B", 64), ("A", 32))))

    image = keras.Input((None, None, 3), name="image")
    x = PadToMultiple(16, dtype=dtype)(image)
    x = keras.layers.Conv2D(128, 7, padding="same", name="stem_conv", dtype=dtype)(x)
    x = keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name="stem_bn", dtype=dtype)(x)
    x = keras.layers.ReLU(dtype=dtype)(x)
    x = ch4(x)
    x = keras.layers.Conv2D(1, 3, padding="same", name="head", dtype=dtype)(x)
    depth = CropLike(dtype=dtype)([x, image])
    model = keras.Model(image, depth, name=name)
    if weights is not None:
        load_into(
            model,
            weights,
            "hourglass depth weights",
            "pass a .weights.h5 file written by python -m training.depth",
        )
    return model
