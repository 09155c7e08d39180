"""SegNet (Badrinarayanan, Kendall & Cipolla 2017): VGG16-BN encoder, mirrored decoder,
upsampling by max-pooling indices.

Input RGB [0, 1] of any size (padded to a multiple of 32, cropped back; caffe
preprocessing inside, so ImageNet-initialised encoders see what they expect);
output per-pixel class logits [N, H, W, K] (K = 2: background, person).
The encoder can start from keras-applications'
VGG16 ImageNet convolutions (``encoder_weights="imagenet"``, through the
weights registry); batch-norm layers then start fresh.
"""

from __future__ import annotations

from typing import Optional

import keras

from tfstyle import weights as weights_lib
from tfstyle.layers import CaffePreprocess, CropLike, MaxPoolingWithArgmax2D, MaxUnpooling2D, PadToMultiple

#: (filters, convs) per block of VGG16.
VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def _conv_bn_relu(x, filters, name, dtype):
    x = keras.layers.Conv2D(filters, 3, padding="same", name=name, dtype=dtype)(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn", dtype=dtype)(x)
    return keras.layers.ReLU(dtype=dtype)(x)


def build_segnet(
    num_classes: int = 2,
    *,
    weights: Optional[str] = None,
    encoder_weights: Optional[str] = None,
    dtype=None,
    name: str = "segnet",
) -> keras.Model:
    """SegNet: [N, H, W, 3] in [0, 1] → class logits [N, H, W, num_classes].

    Args:
      weights: a ``.weights.h5`` of this model, or ``None``.
      encoder_weights: ``"imagenet"`` or a keras-applications VGG16 notop
        ``.h5`` to initialise the 13 encoder convolutions; ``None``: random.
    """
    image = keras.Input((None, None, 3), name="image")
    x = PadToMultiple(32, dtype=dtype)(image)
    x = CaffePreprocess(name="preprocess", dtype=dtype)(x)
    masks = []
    for block, (filters, convs) in enumerate(VGG16_BLOCKS, start=1):
        for layer in range(1, convs + 1):
            x = _conv_bn_relu(x, filters, f"block{block}_conv{layer}", dtype)
        x, mask = MaxPoolingWithArgmax2D(name=f"block{block}_pool", dtype=dtype)(x)
        masks.append(mask)
    # The decoder mirrors the encoder: 512,512,512 | 512,512,256 | 256,256,128 | 128,64 | 64,
    # then the classifier (SegNet-Tutorial's conv1_1_D) takes the place of stage 1's second conv.
    for block in range(5, 0, -1):
        filters, convs = VGG16_BLOCKS[block - 1]
        x = MaxUnpooling2D(name=f"unpool{block}", dtype=dtype)(x, masks[block - 1])
        for layer in range(convs, 0 if block > 1 else 1, -1):
            out = filters if layer > 1 or block == 1 else VGG16_BLOCKS[block - 2][0]
            x = _conv_bn_relu(x, out, f"decoder{block}_conv{layer}", dtype)
    logits = keras.layers.Conv2D(num_classes, 3, padding="same", name="classifier", dtype="float32")(x)
    model = keras.Model(image, CropLike(dtype="float32")([logits, image]), name=name)
    if encoder_weights is not None:
        load_vgg16_encoder(model, encoder_weights)
    if weights is not None:
        weights_lib.load_into(
            model, weights, "SegNet weights", "pass a .weights.h5 file written by python -m training.segnet"
        )
    return model


def load_vgg16_encoder(model: keras.Model, source: str) -> None:
    """Copy keras-applications VGG16 conv weights (same layer names) into the encoder."""
    spec = weights_lib.VGG16_IMAGENET
    path = (
        weights_lib.download(spec)
        if source == "imagenet"
        else weights_lib.check_local(source, spec, spec.option)
    )
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    weights_lib.load_into(
        vgg,
        path,
        "keras-applications VGG16 weights",
        "pass vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    )
    for block, (_, convs) in enumerate(VGG16_BLOCKS, start=1):
        for layer in range(1, convs + 1):
            name = f"block{block}_conv{layer}"
            model.get_layer(name).set_weights(vgg.get_layer(name).get_weights())
