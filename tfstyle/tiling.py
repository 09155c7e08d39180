"""Exact strip-wise execution of a chain of local layers (high resolution in bounded memory).

The full-resolution parts of the networks — SANet's encoder up to relu4_1 and
its decoder, Magenta's contract and expand stages — hold the largest
activations but are local: each output row depends on a few input rows. A
`LayerChain` runs such a chain on horizontal strips whose input carries a
halo that covers the chain's receptive field, so the stitched result equals
the one-shot result:

* reflection padding is applied only at the image's own top and bottom
  (at a strip's inner edges the halo rows are the real neighbours);
* pooling and stride-2 convolution strips start on even rows, so their grid
  is the image's;
* ×2 nearest upsampling maps output rows to input rows exactly.

Operations that need the whole image (instance normalisation's statistics,
attention) are not steps: a caller runs a chain up to one, computes what it
needs on the stitched result, and passes it into the next chain as a
`Step.rows` function of the strip's row range (Magenta's two-pass norm).

Strips span the full width; only rows are split.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Union

import keras
import tensorflow as tf

from tfstyle.kernels import cpu_rewrites
from tfstyle.layers import NearestUpsampling2D, ReflectionPadding2D
from tfstyle.layers.padding import gather_rows_cols, reflect_index, reflect_pad


@dataclasses.dataclass(frozen=True)
class Step:
    """One operation of a chain and how it maps rows.

    kind: ``pad`` (reflect `size` rows and columns), ``conv`` (valid, kernel
    `size`, `stride` 1 or 2), ``pool`` (2×2/2 same), ``up`` (×2 nearest),
    ``crop`` (to at most `size` rows and `width` columns), ``point`` (row-wise
    independent) or ``rows`` (`fn(y, start, stop)` gets its strip's row range).
    """

    kind: str
    fn: Callable
    size: int = 1
    stride: int = 1
    width: int = 0

    @staticmethod
    def pad(rows: int) -> Step:
        return Step("pad", lambda y: y, size=int(rows))

    @staticmethod
    def pointwise(fn: Callable) -> Step:
        return Step("point", fn)

    @staticmethod
    def by_rows(fn: Callable) -> Step:
        """A position-dependent op: ``fn(y, start, stop)`` for rows [start, stop) of its level."""
        return Step("rows", fn)

    @staticmethod
    def crop(height: int, width: int) -> Step:
        """Crop to `height` × `width` (the bottom rows / right columns go): `upsample_like`'s crop."""
        return Step("crop", lambda y: y[:, :, :width], size=int(height), width=int(width))

    @staticmethod
    def of(layer: keras.layers.Layer) -> Step:
        """The step of a Keras layer, or ValueError for a layer that cannot run in strips."""
        if isinstance(layer, ReflectionPadding2D):
            return Step.pad(layer.padding)
        if isinstance(layer, keras.layers.Conv2D):
            k, s = layer.kernel_size[0], layer.strides[0]
            if layer.padding != "valid" or layer.strides[1] != s or s not in (1, 2):
                raise ValueError(f"{layer.name}: strips support valid convs of stride 1 or 2")
            if k == 1 and s == 1:
                return Step("point", layer)
            return Step("conv", layer, size=k, stride=s)
        if isinstance(layer, keras.layers.MaxPooling2D):
            if layer.pool_size != (2, 2) or layer.strides != (2, 2) or layer.padding != "same":
                raise ValueError(f"{layer.name}: strips support 2x2/2 same pooling")
            return Step("pool", layer)
        if isinstance(layer, NearestUpsampling2D):
            if layer.factor != 2:
                raise ValueError(f"{layer.name}: strips support x2 upsampling")
            return Step("up", layer)
        if isinstance(layer, (keras.layers.ReLU, keras.layers.Activation)):
            return Step("point", layer)
        raise ValueError(f"{layer.name}: {type(layer).__name__} cannot run in strips")


class LayerChain:
    """A chain of local layers that runs whole or in strips of output rows.

    ``LayerChain(steps)(x, strip_rows=None)`` equals applying the steps in
    order (Keras layers are classified by `Step.of`); with `strip_rows` the
    output is computed `strip_rows` rows at a time and concatenated. Any
    strip height works: an output row range maps back to pooling and stride-2
    inputs that start on even rows by construction.
    """

    def __init__(self, steps: Sequence[Union[keras.layers.Layer, Step]]):
        self.ops = [s if isinstance(s, Step) else Step.of(s) for s in steps]

    def heights(self, height: int) -> list[int]:
        """The row count after each step for an input of `height` rows (index 0: the input)."""
        rows = [height]
        for op in self.ops:
            h = rows[-1]
            if op.kind == "pad":
                h += 2 * op.size
            elif op.kind == "conv":
                h = (h - op.size) // op.stride + 1
            elif op.kind == "pool":
                h = (h + 1) // 2
            elif op.kind == "up":
                h *= 2
            elif op.kind == "crop":
                h = min(h, op.size)
            rows.append(h)
        return rows

    def __call__(self, x, strip_rows: int | None = None):
        heights = self.heights(int(x.shape[1]))
        if not strip_rows:
            return self._strip(x, heights, 0, heights[-1])
        total, step = heights[-1], max(1, int(strip_rows))
        strips = [self._strip(x, heights, start, min(start + step, total)) for start in range(0, total, step)]
        return tf.concat(strips, axis=1) if len(strips) > 1 else strips[0]

    def _needed(self, heights: list[int], start: int, stop: int) -> list[tuple[int, int]]:
        """Rows [a, b) needed at every level (index 0: the input) for output rows [start, stop)."""
        spans = [(start, stop)]
        for level in range(len(self.ops), 0, -1):
            op, (a, b) = self.ops[level - 1], spans[0]
            below = heights[level - 1]
            if op.kind == "pad":  # padded row r is input row r - p (reflected beyond the edges)
                a, b = max(a - op.size, 0), b - op.size
            elif op.kind == "conv":
                a, b = op.stride * a, op.stride * (b - 1) + op.size
            elif op.kind == "pool":
                a, b = 2 * a, 2 * b
            elif op.kind == "up":
                a, b = a // 2, (b - 1) // 2 + 1
            spans.insert(0, (a, min(b, below)))
        return spans

    def _strip(self, x, heights, start, stop):
        spans = self._needed(heights, start, stop)
        a, b = spans[0]
        y, offset = x[:, a:b], a  # y holds rows [offset, offset + rows) of the current level
        for level, op in enumerate(self.ops):
            below, rows = heights[level], int(y.shape[1])
            if op.kind == "pad":
                p = op.size
                top = p if offset == 0 else 0
                bottom = p if offset + rows == below else 0
                y = reflect_pad(y, p, top=top > 0, bottom=bottom > 0)
                offset = offset + p - top  # padded coordinates: input row r is row r + p
            elif op.kind == "rows":
                y = op.fn(y, offset, offset + rows)
            else:
                y = op.fn(y)
                if op.kind in ("conv", "pool"):
                    offset //= op.stride if op.kind == "conv" else 2
                elif op.kind == "up":
                    offset *= 2
            want_a, want_b = spans[level + 1]
            if (want_a, want_b) != (offset, offset + int(y.shape[1])):
                y = y[:, want_a - offset : want_b - offset]
            offset = want_a
        return y


def levels(steps: Sequence[Union[keras.layers.Layer, Step]]) -> list[LayerChain]:
    """Cut a chain where its resolution changes: after each pooling or stride-2 conv, before
    each upsampling. What passes between two chains is always the lower-resolution map, so
    a strip never holds many full-resolution rows for a few low-resolution ones."""
    chains: list[LayerChain] = []
    current: list[Step] = []
    for step in (s if isinstance(s, Step) else Step.of(s) for s in steps):
        if step.kind == "up" and current:
            chains.append(LayerChain(current))
            current = []
        current.append(step)
        if step.kind == "pool" or (step.kind == "conv" and step.stride == 2):
            chains.append(LayerChain(current))
            current = []
    if current:
        chains.append(LayerChain(current))
    return chains


def run_levels(chains: Sequence[LayerChain], x, strip_rows: int):
    """Run `levels` chains in turn, each in strips of about `strip_rows` rows of its input's level
    (a chain that ends in a downsampling makes half as many output rows); a chain that would
    make fewer than three strips runs whole."""
    for chain in chains:
        last = chain.ops[-1]
        rows = max(1, strip_rows // 2) if last.kind == "pool" or last.stride == 2 else strip_rows
        total = chain.heights(int(x.shape[1]))[-1]
        x = chain(x, strip_rows=rows if total > 2 * rows else None)
    return x


#: Input channels from which a float32 3×3 conv runs faster on two row halves stacked as a
#: batch than on the whole image: oneDNN's kernel for one image is slow at many channels on few
#: positions (2-core AMX VM: 64²×512 1.74×, 32²×512 1.78×, 128²×256 1.27×, 256²×128 0.93×,
#: 512²×64 0.90×; bfloat16 0.58-1.12×: benchmarks/conv_rows.py, BENCHMARKS.md).
ROW_BATCH_MIN_CHANNELS = 256


#: The name scope of the convs run on row halves (what a graph's reader can look for).
ROW_HALVES = "row_halves"


def row_batchable(layer: keras.layers.Layer) -> bool:
    """Whether `conv_rows_as_batch` pays for `layer`: a valid float32 conv of stride 1, kernel > 1,
    on at least `ROW_BATCH_MIN_CHANNELS` input channels."""
    return (
        isinstance(layer, keras.layers.Conv2D)
        and layer.padding == "valid"
        and tuple(layer.strides) == (1, 1)
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.kernel_size[0] > 1
        and layer.compute_dtype == "float32"
        and int(layer.kernel.shape[2]) >= ROW_BATCH_MIN_CHANNELS
    )


def conv_rows_as_batch(conv: keras.layers.Layer, x):
    """`conv(x)` (valid, stride 1) computed as the two overlapping row halves of `x` [N, H, W, C]
    in one batch of 2N, stitched back: exact, each output row sees the same input rows."""
    k = conv.kernel_size[0]
    n, height = tf.shape(x)[0], tf.shape(x)[1]
    out_rows = height - k + 1
    half = (out_rows + 1) // 2  # the second half overlaps the first by one row when out_rows is odd
    slab = half + k - 1
    with tf.name_scope(ROW_HALVES):
        y = conv(tf.concat([x[:, :slab], x[:, height - slab :]], axis=0))
    return tf.concat([y[:n], y[n:, 2 * half - out_rows :]], axis=1)


def padded_conv_rows_as_batch(x, p: int, conv: keras.layers.Layer, activation=None):
    """``activation(conv(reflect_pad(x, p)))`` for a same-size conv (kernel 2p + 1), its padded
    input's two row halves gathered straight from `x` [N, H, W, C] as one batch of 2N
    (`conv_rows_as_batch` without the pad's copy), stitched back by a reshape. Exact: each
    output row sees the same input rows. For odd H the second half computes one row past the
    end (from clamped rows), which the final slice drops.
    """
    k = conv.kernel_size[0]
    n, height, width, channels = tf.unstack(tf.shape(x))
    half = (height + 1) // 2
    slab = half + k - 1  # padded rows for `half` output rows
    padded_rows = tf.concat([tf.range(slab), tf.range(half, half + slab)], 0)
    rows = tf.clip_by_value(reflect_index(padded_rows - p, height), 0, height - 1)
    y = gather_rows_cols(x, rows, reflect_index(tf.range(-p, width + p), width))  # one copy
    with tf.name_scope(ROW_HALVES):
        y = conv(tf.reshape(y, tf.stack([2 * n, slab, width + 2 * p, channels])))
        y = activation(y) if activation is not None else y
    return tf.reshape(y, tf.stack([n, 2 * half, width, conv.filters]))[:, :height]


def _is_plain_relu(layer) -> bool:
    """max(x, 0): a ReLU layer with no cap, slope or threshold."""
    if not isinstance(layer, keras.layers.ReLU):
        return False
    config = layer.get_config()
    return config["max_value"] is None and config["negative_slope"] == config["threshold"] == 0


@tf.autograph.experimental.do_not_convert  # Python loops over layers only; the graph is straight
def run_chain(layers: Sequence[keras.layers.Layer], x, taps: Sequence[str] = ()):
    """Apply `layers` in order. On TF's CPU kernels (`tfstyle.kernels`) each `row_batchable`
    conv runs on its row halves as a batch — after a reflection pad, as one
    `padded_conv_rows_as_batch` with the ReLU that follows (the same numbers, faster on one
    image). Returns the output, or ``{tap: output}`` of the layers named in `taps` (the chain
    stops at the last of them)."""
    found, batched = {}, cpu_rewrites()
    layers, i = list(layers), 0
    while i < len(layers):
        layer, after = layers[i], layers[i + 1 : i + 3]
        fused = (
            batched
            and isinstance(layer, ReflectionPadding2D)
            and layer.name not in taps
            and len(after) > 0
            and row_batchable(after[0])
            and after[0].kernel_size[0] == 2 * layer.padding + 1
        )
        if fused:
            conv_tapped = after[0].name in taps
            relu = after[1] if len(after) > 1 and _is_plain_relu(after[1]) and not conv_tapped else None
            x = padded_conv_rows_as_batch(x, layer.padding, after[0], relu)
            done = [layer, after[0]] + ([relu] if relu is not None else [])
        else:
            x = conv_rows_as_batch(layer, x) if batched and row_batchable(layer) else layer(x)
            done = [layer]
        i += len(done)
        for name in (d.name for d in done if d.name in taps):
            found[name] = x
        if taps and len(found) == len(taps):
            return found
    return found if taps else x
