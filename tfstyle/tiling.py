"""Exact strip-wise execution of a chain of local layers (high resolution in bounded memory).

The full-resolution ends of SANet — the encoder's first block and the
decoder's last — hold the largest activations (64 channels at the image's
size) but are local: each output row depends on a few input rows. A
`LayerChain` runs such a chain on horizontal strips whose input carries a
halo that covers the chain's receptive field, so the stitched result equals
the one-shot result:

* reflection padding is applied only at the image's own top and bottom
  (at a strip's inner edges the halo rows are the real neighbours);
* 2×2 pooling strips start on even rows, so the pooling grid is the image's;
* ×2 nearest upsampling maps output rows to input rows exactly.

Strips span the full width; only rows are split.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import tensorflow as tf

from tfstyle.layers import NearestUpsampling2D, ReflectionPadding2D


@dataclasses.dataclass(frozen=True)
class _Op:
    kind: str  # "pad" (reflect, 1 row), "conv" (valid, k rows), "pool" (2x2/2 same), "up" (x2), "point"
    layer: keras.layers.Layer


def _ops(layers: Sequence[keras.layers.Layer]) -> list[_Op]:
    ops = []
    for layer in layers:
        if isinstance(layer, ReflectionPadding2D):
            if layer.padding != 1:
                raise ValueError(f"{layer.name}: strips support reflection padding of 1")
            ops.append(_Op("pad", layer))
        elif isinstance(layer, keras.layers.Conv2D):
            if layer.strides != (1, 1) or layer.padding != "valid" or layer.kernel_size[0] not in (1, 3):
                raise ValueError(f"{layer.name}: strips support 1x1 and valid 3x3 stride-1 convs")
            ops.append(_Op("conv" if layer.kernel_size[0] == 3 else "point", layer))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            if layer.pool_size != (2, 2) or layer.strides != (2, 2) or layer.padding != "same":
                raise ValueError(f"{layer.name}: strips support 2x2/2 same pooling")
            ops.append(_Op("pool", layer))
        elif isinstance(layer, NearestUpsampling2D):
            if layer.factor != 2:
                raise ValueError(f"{layer.name}: strips support x2 upsampling")
            ops.append(_Op("up", layer))
        elif isinstance(layer, (keras.layers.ReLU, keras.layers.Activation)):
            ops.append(_Op("point", layer))
        else:
            raise ValueError(f"{layer.name}: {type(layer).__name__} cannot run in strips")
    return ops


class LayerChain:
    """A chain of local Keras layers that runs whole or in strips of output rows.

    ``LayerChain(layers)(x, strip_rows=None)`` equals calling the layers in
    order; with `strip_rows` the output is computed `strip_rows` rows at a time
    and concatenated. Any strip height works: an output row range maps back to
    pooling inputs that start on even rows by construction.
    """

    def __init__(self, layers: Sequence[keras.layers.Layer]):
        self.ops = _ops(layers)

    def heights(self, height: int) -> list[int]:
        """The row count after each op for an input of `height` rows (index 0: the input)."""
        rows = [height]
        for op in self.ops:
            h = rows[-1]
            rows.append({"pad": h + 2, "conv": h - 2, "pool": (h + 1) // 2, "up": 2 * h}.get(op.kind, h))
        return rows

    def __call__(self, x, strip_rows: int | None = None):
        if not strip_rows:
            for op in self.ops:
                x = op.layer(x)
            return x
        heights = self.heights(int(x.shape[1]))
        total, step = heights[-1], max(1, int(strip_rows))
        strips = [self._strip(x, heights, start, min(start + step, total)) for start in range(0, total, step)]
        return tf.concat(strips, axis=1)

    def _needed(self, heights: list[int], start: int, stop: int) -> list[tuple[int, int]]:
        """Rows [a, b) needed at every level (index 0: the input) for output rows [start, stop)."""
        spans = [(start, stop)]
        for level in range(len(self.ops), 0, -1):
            op, (a, b) = self.ops[level - 1], spans[0]
            below = heights[level - 1]
            if op.kind == "pad":  # padded row r is input row r - 1 (reflected beyond the edges)
                a, b = max(a - 1, 0), min(b - 1, below)
            elif op.kind == "conv":
                a, b = a, b + 2
            elif op.kind == "pool":
                a, b = 2 * a, min(2 * b, below)
            elif op.kind == "up":
                a, b = a // 2, (b - 1) // 2 + 1
            spans.insert(0, (a, min(b, below)))
        return spans

    def _strip(self, x, heights, start, stop):
        spans = self._needed(heights, start, stop)
        a, b = spans[0]
        y, offset = x[:, a:b], a  # y holds rows [offset, offset + rows) of the current level
        for level, op in enumerate(self.ops):
            below = heights[level]
            if op.kind == "pad":
                top = 1 if offset == 0 else 0
                bottom = 1 if offset + int(y.shape[1]) == below else 0
                y = tf.pad(y, [[0, 0], [top, bottom], [1, 1], [0, 0]], mode="REFLECT")
                offset = offset + 1 - top  # padded coordinates: input row r is row r + 1
            elif op.kind == "conv":
                y = op.layer(y)  # valid: loses one row at each end
            elif op.kind == "pool":
                y, offset = op.layer(y), offset // 2
            elif op.kind == "up":
                y, offset = op.layer(y), offset * 2
            else:
                y = op.layer(y)
            want_a, want_b = spans[level + 1]
            y, offset = y[:, want_a - offset : want_b - offset], want_a
        return y
