"""A PyTorch SANet written from shared/specs/sanet.md, as the public port lays it out.

Module indices and state-dict keys match the published files
(``vgg_normalised.pth``, ``decoder_iter_*.pth``, ``transformer_iter_*.pth``),
so tests can save seeded random weights in exactly that format and feed them
to tfstyle's importer. Forward passes follow the port: encoder slices
[:4], [4:11], [11:18], [18:31], [31:44]; attention materialised in one shot.
"""

import torch
from torch import nn


def vgg_normalised() -> nn.Sequential:
    layers = [nn.Conv2d(3, 3, 1)]
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512]
    channels = 3
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2, 0, ceil_mode=True))
        else:
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, item, 3), nn.ReLU()]
            channels = item
    return nn.Sequential(*layers)


def decoder() -> nn.Sequential:
    def block(cin, cout, relu=True):
        return [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)] + ([nn.ReLU()] if relu else [])

    up = lambda: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
    return nn.Sequential(
        *block(512, 256),
        up(),
        *block(256, 256),
        *block(256, 256),
        *block(256, 256),
        *block(256, 128),
        up(),
        *block(128, 128),
        *block(128, 64),
        up(),
        *block(64, 64),
        *block(64, 3, relu=False),
    )


def calc_mean_std(feat, eps=1e-5):
    n, c = feat.shape[:2]
    var = feat.view(n, c, -1).var(dim=2) + eps
    return feat.view(n, c, -1).mean(dim=2).view(n, c, 1, 1), var.sqrt().view(n, c, 1, 1)


def mean_variance_norm(feat):
    mean, std = calc_mean_std(feat)
    return (feat - mean) / std


class SANet(nn.Module):
    def __init__(self, in_planes=512):
        super().__init__()
        self.f = nn.Conv2d(in_planes, in_planes, 1)
        self.g = nn.Conv2d(in_planes, in_planes, 1)
        self.h = nn.Conv2d(in_planes, in_planes, 1)
        self.sm = nn.Softmax(dim=-1)
        self.out_conv = nn.Conv2d(in_planes, in_planes, 1)

    def forward(self, content, style):
        F = self.f(mean_variance_norm(content))
        G = self.g(mean_variance_norm(style))
        H = self.h(style)
        b, c, h, w = F.size()
        F = F.view(b, -1, w * h).permute(0, 2, 1)
        b, c, h, w = G.size()
        G = G.view(b, -1, w * h)
        S = self.sm(torch.bmm(F, G))
        b, c, h, w = H.size()
        H = H.view(b, -1, w * h)
        O = torch.bmm(H, S.permute(0, 2, 1))  # noqa: E741  (the paper's name)
        b, c, h, w = content.size()
        O = O.view(b, c, h, w)  # noqa: E741
        return self.out_conv(O) + content


class Transform(nn.Module):
    def __init__(self, in_planes=512):
        super().__init__()
        self.sanet4_1 = SANet(in_planes)
        self.sanet5_1 = SANet(in_planes)
        self.upsample5_1 = nn.Upsample(scale_factor=2, mode="nearest")
        self.merge_conv_pad = nn.ReflectionPad2d(1)
        self.merge_conv = nn.Conv2d(in_planes, in_planes, 3)

    def forward(self, content4_1, style4_1, content5_1, style5_1):
        return self.merge_conv(
            self.merge_conv_pad(
                self.sanet4_1(content4_1, style4_1) + self.upsample5_1(self.sanet5_1(content5_1, style5_1))
            )
        )


class Reference(nn.Module):
    """The port's test-time pipeline: encode both, transform, decode (no clamp)."""

    def __init__(self):
        super().__init__()
        self.vgg, self.transform, self.decoder = vgg_normalised(), Transform(), decoder()
        children = list(self.vgg.children())
        self.enc = [nn.Sequential(*children[a:b]) for a, b in ((0, 4), (4, 11), (11, 18), (18, 31), (31, 44))]

    def encode(self, x):
        feats = []
        for enc in self.enc:
            x = enc(x)
            feats.append(x)
        return feats

    def forward(self, content, style):
        c, s = self.encode(content), self.encode(style)
        return self.decoder(self.transform(c[3], s[3], c[4], s[4]))


def seeded_reference(seed: int = 0) -> Reference:
    """Random weights scaled so features stay O(1) through 16 layers, like trained ones."""
    torch.manual_seed(seed)
    model = Reference().eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
                module.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
                module.bias.uniform_(-0.05, 0.05)
        last = model.decoder[-1]  # outputs around 0.5 ± 0.3, as a trained decoder gives
        last.weight.mul_(0.015)
        last.bias.fill_(0.5)
    return model


def save_published_files(model: Reference, directory):
    """Write the three .pth files with the published names and key layouts."""
    import os

    paths = {
        "vgg": os.path.join(directory, "vgg_normalised.pth"),
        "decoder": os.path.join(directory, "decoder_iter_500000.pth"),
        "transformer": os.path.join(directory, "transformer_iter_500000.pth"),
    }
    torch.save(model.vgg.state_dict(), paths["vgg"])
    torch.save(model.decoder.state_dict(), paths["decoder"])
    torch.save(model.transform.state_dict(), paths["transformer"])
    return paths


def to_torch(images):
    """[N, H, W, 3] NumPy → [N, 3, H, W] torch."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()


def to_numpy(tensor):
    return tensor.detach().permute(0, 2, 3, 1).numpy()
