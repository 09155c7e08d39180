"""Kozlovtsev 2019, Fig. 10: the depth-weighted content loss's weight map on a synthetic scene.

A generated depth map (a floor receding to the horizon and a near box) becomes per-pixel content
weights α (nearest α_max = 5, farthest α_min = 1, log-spaced; the thesis's §4.1), which are then
carried to the content layer's resolution (relu2_2) the way the loss sees them: a k×k conv
averages α over its window, a pooling layer average-pools it (`tfstyle.optimization.weight_maps`).
Needs no trained weights (the map depends on the layers' shapes only), so its picture is a
result in both modes. Panels: depth, α at the image, α at relu2_2.

    python examples/papers/kozlovtsev_2019_fig10_weight_map.py [--size 256]
"""

from common import done, output_folder, parser, strip


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--size", type=int, default=256)
    args = p.parse_args()
    import numpy as np

    from tfstyle.colormap import colorize
    from tfstyle.image import save_image
    from tfstyle.models.vgg import build_vgg19
    from tfstyle.optimization.weight_maps import depth_to_alpha, encoder_path, propagate

    size = 32 if args.smoke else args.size
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    depth = 1.0 + 9.0 * (1.0 - yy) ** 2  # the floor: far at the top
    box = (np.abs(xx - 0.65) < 0.15) & (np.abs(yy - 0.7) < 0.15)
    depth = np.where(box, 1.2, depth).astype(np.float32)  # a near box
    alpha = depth_to_alpha(depth, 1.0, 5.0)
    encoder = build_vgg19(("relu2_2",), weights=None)
    at_layer = propagate(alpha, encoder_path(encoder, "relu2_2"))
    folder = output_folder(args, "kozlovtsev_2019_fig10")
    picture = strip([colorize(depth), colorize(alpha), colorize(at_layer)])
    path = f"{folder}/weight_map.png"
    save_image(path, picture)
    np.savez(f"{folder}/weight_map.npz", depth=depth, alpha=alpha, alpha_relu2_2=at_layer)
    print(f"alpha: {alpha.min():.2f}..{alpha.max():.2f} at {alpha.shape}; at relu2_2 {at_layer.shape}")
    done(args, path, "depth | alpha at the image | alpha at relu2_2")


if __name__ == "__main__":
    main()
