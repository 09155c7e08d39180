"""Test clips made from the example photos with PyAV: known motion, optional audio and rotation.

Nothing here comes from tfstyle: the clips are the independent input of the video tests
(and of benchmarks/video.py).
"""

from __future__ import annotations

import fractions

import numpy as np


def pan_frames(photo: np.ndarray, count: int, size: tuple[int, int], step: int = 2):
    """`count` crops of `photo` [H, W, 3] uint8, moving `step` px right and down per frame."""
    h, w = size
    for i in range(count):
        y, x = min(i * step, photo.shape[0] - h), min(i * step, photo.shape[1] - w)
        yield photo[y : y + h, x : x + w]


def zoom_frames(photo: np.ndarray, count: int, size: tuple[int, int], rate: float = 0.02):
    """`count` centred crops of `photo`, each `rate` smaller than the last, resized to `size`."""
    from PIL import Image

    h, w = photo.shape[:2]
    for i in range(count):
        scale = (1 - rate) ** i
        ch, cw = int(h * scale), int(w * scale)
        y, x = (h - ch) // 2, (w - cw) // 2
        crop = Image.fromarray(photo[y : y + ch, x : x + cw])
        yield np.asarray(crop.resize((size[1], size[0]), Image.BILINEAR))


def cutout_frames(background: np.ndarray, person: np.ndarray, count: int, size, step: int = 3):
    """A still background with an elliptical cut-out of `person` sliding across it."""
    h, w = size
    bg = background[:h, :w]
    ph, pw = h * 2 // 3, w // 3
    patch = person[:ph, :pw]
    yy, xx = np.mgrid[0:ph, 0:pw]
    inside = ((yy - ph / 2) / (ph / 2)) ** 2 + ((xx - pw / 2) / (pw / 2)) ** 2 <= 1
    for i in range(count):
        frame = bg.copy()
        x = min(i * step, w - pw)
        region = frame[h - ph :, x : x + pw]
        region[inside] = patch[inside]
        yield frame


def face_frames(background: np.ndarray, portrait: np.ndarray, count: int, size, step: int = 6):
    """A still background with an elliptical cut-out of `portrait`'s head (the photo shrunk so its
    face is about a third of the frame's height) sliding left to right across it."""
    from PIL import Image

    h, w = size
    bg = np.asarray(Image.fromarray(background).resize((w, h), Image.BILINEAR))
    ph, pw = h * 3 // 4, w * 3 // 8
    scale = ph / portrait.shape[0] * 1.25
    head = np.asarray(
        Image.fromarray(portrait).resize((int(portrait.shape[1] * scale), int(portrait.shape[0] * scale)))
    )
    top, left = int(head.shape[0] * 0.05), (head.shape[1] - pw) // 2
    patch = head[top : top + ph, left : left + pw]
    yy, xx = np.mgrid[0:ph, 0:pw]
    inside = ((yy - ph / 2) / (ph / 2)) ** 2 + ((xx - pw / 2) / (pw / 2)) ** 2 <= 1
    for i in range(count):
        frame = bg.copy()
        x = min(i * step, w - pw)
        region = frame[(h - ph) // 2 : (h - ph) // 2 + ph, x : x + pw]
        region[inside] = patch[inside]
        yield frame


def write_clip(
    path,
    frames,
    fps: int = 12,
    audio_seconds: float = 0.0,
    rotation: int = 0,
    crf: int = 10,
    audio_codec="aac",
):
    """Encode RGB uint8 frames as H.264 (+ a sine tone of `audio_seconds`, AAC or PCM) with PyAV."""
    import av

    frames = list(frames)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps, options={"crf": str(crf)})
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        audio = None
        if audio_seconds:
            audio = out.add_stream(audio_codec, rate=44100)
            audio.layout = "mono"
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts, frame.time_base = i, fractions.Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            rate, chunk = 44100, 1024
            t = np.arange(int(rate * audio_seconds)) / rate
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for i in range(0, len(tone), chunk):
                samples = tone[None, i : i + chunk]
                if audio_codec == "pcm_s16le":
                    samples = (samples * 32767).astype(np.int16)
                kind = "s16" if audio_codec == "pcm_s16le" else "fltp"
                frame = av.AudioFrame.from_ndarray(samples, format=kind, layout="mono")
                frame.sample_rate, frame.pts = rate, i
                for packet in audio.encode(frame):
                    out.mux(packet)
            for packet in audio.encode():
                out.mux(packet)
    return path


def read_clip(path):
    """(frames as uint8 arrays, fps, duration s, rotation, audio codec, audio duration s) with PyAV."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, rotation = [], 0
        for frame in container.decode(stream):
            rotation = int(frame.rotation or 0)
            frames.append(frame.to_ndarray(format="rgb24"))
        fps = stream.average_rate
        audio = container.streams.audio[0] if container.streams.audio else None
        audio_codec = audio.codec_context.name if audio else None
        audio_seconds = (
            float(audio.duration * audio.time_base) if audio is not None and audio.duration else 0.0
        )
        duration = float(stream.duration * stream.time_base) if stream.duration else 0.0
    return frames, fps, duration, rotation, audio_codec, audio_seconds
