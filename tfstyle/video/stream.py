"""Video: frames streamed through any image → image function, with temporal stability.

    report = stylize_video("in.mp4", "out.mp4", lambda frame: stylizer.stylize(frame, ...))

Decoding and encoding are PyAV's (FFmpeg): frames are streamed, so memory does
not grow with the clip; the output keeps the input's frame rate, frame count,
duration and display rotation, and its audio stream is copied packet by
packet (re-encoded to AAC only where the output container cannot hold the
codec). Video is H.264 (``libx264``, yuv420p, ``crf``). The file is written
under a temporary name and renamed when complete.

Temporal consistency without training (`TemporalBlender`): the previous
output is warped to the current frame by the input frames' backward optical
flow and blended in where the flow passes Ruder et al. 2016's
forward–backward check: O_t = S_t + λ·M_t·(W(O_{t−1}) − S_t), S_t the
independently stylized frame, λ = ``temporal_weight`` (0: independent frames).

Needs ``pip install 'tfstyle[video]'`` (PyAV and OpenCV).
"""

from __future__ import annotations

import dataclasses
import fractions
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, Optional

import numpy as np

from tfstyle.errors import ConfigError, ImageError, MissingExtraError
from tfstyle.video import flow as flow_lib
from tfstyle.video.metrics import pair_warping_error

#: Output containers and the audio codecs each holds as they are (others become AAC).
CONTAINERS = {
    ".mp4": {"aac", "mp3", "alac", "opus", "ac3", "eac3", "flac"},
    ".mov": {"aac", "mp3", "alac", "pcm_s16le"},
    ".mkv": None,
}  # fmt: skip  (None: any codec)
#: Shorter side the blending's optical flow (DIS ``medium``) is computed at; larger frames are
#: downscaled for it. Chosen by benchmarks/video.py over DIS fast/medium at 180-480 px: the
#: cheapest that keeps Magenta's warping error under 0.6× of independent frames' at 360p and
#: 720p (0.32×, 0.44×), at a fraction of the network's time (BENCHMARKS.md).
FLOW_SIDE = 240
#: x264's quality scale: 0 lossless … 51 worst; 18 looks lossless to most eyes.
MAX_CRF = 51


def av():
    try:
        import av as module
    except ImportError:
        raise MissingExtraError("av", "video", "tfstyle video") from None
    return module


@dataclasses.dataclass
class VideoInfo:
    width: int
    height: int
    fps: fractions.Fraction
    frames: int  # 0 when the container does not say
    duration: float  # seconds
    rotation: int  # degrees counter-clockwise, as players show it
    audio_codec: Optional[str]


@dataclasses.dataclass
class VideoReport:
    frames: int
    seconds: float
    fps: float
    warping_error: Optional[float]  # mean over frame pairs, when flow was computed
    stage_seconds: dict  # decode, flow, network, encode


def probe(path: str) -> VideoInfo:
    """What the input is, from its container and first frame; one-line `ImageError` if unreadable."""
    with _open(path) as container:
        stream = container.streams.video[0]
        first = next(_decode(container, stream, path), None)
        if first is None:
            raise ImageError(f"{path}: the video has no frames; check the file")
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        duration = float(stream.duration * stream.time_base) if stream.duration else 0.0
        if not duration and container.duration:
            duration = container.duration / 1_000_000
        return VideoInfo(
            first.width,
            first.height,
            stream.average_rate or stream.guessed_rate or fractions.Fraction(25),
            stream.frames,
            duration,
            int(first.rotation or 0),
            audio,
        )


def probe_span(path: str, start: float, duration: Optional[float]) -> VideoInfo:
    """`probe`, and a one-line `ConfigError` unless [start, start + duration) lies in the video."""
    if start < 0 or (duration is not None and duration <= 0):
        raise ConfigError("--start must be >= 0 and --duration > 0 (seconds)")
    info = probe(path)
    if info.duration and start >= info.duration:
        raise ConfigError(f"--start {start}: the video lasts {info.duration:.2f} s")
    return info


def _open(path: str):
    if not os.path.isfile(path):
        raise ImageError(f"{path}: no such file; check the path")
    try:
        container = av().open(path)
    except av().error.FFmpegError as e:
        raise ImageError(f"{path}: not a video FFmpeg can read ({_reason(e)}); check the file") from None
    if not container.streams.video:
        container.close()
        raise ImageError(f"{path}: has no video stream")
    return container


def _reason(error) -> str:
    return " ".join(str(getattr(error, "strerror", None) or error).split())[:120]


def _decode(container, stream, path):
    stream.thread_type = "AUTO"
    try:
        yield from container.decode(stream)
    except av().error.FFmpegError as e:
        raise ImageError(f"{path}: cannot decode ({_reason(e)}); the file is truncated or corrupt") from None


def frames(path: str, start: float = 0.0, duration: Optional[float] = None) -> Iterator[np.ndarray]:
    """RGB frames [H, W, 3] uint8 from `start` seconds, for `duration` seconds (default: to the end)."""
    with _open(path) as container:
        stream = container.streams.video[0]
        if start > 0:
            container.seek(int(start / stream.time_base), stream=stream, backward=True)
        end = None if duration is None else start + duration
        for frame in _decode(container, stream, path):
            t = frame.time or 0.0
            if t < start - 1e-6:
                continue
            if end is not None and t >= end - 1e-6:
                break
            yield frame.to_ndarray(format="rgb24")


class TemporalBlender:
    """Blends the warped previous output into each new frame where the flow is trusted.

    Per frame: `motion` (the backward flow from the previous input frame, and
    its trust mask; also used to carry a portrait mask over), then `blend`.
    """

    def __init__(self, weight: float, measure: bool = False, needs_flow: bool = False):
        if not 0.0 <= weight <= 1.0:
            raise ConfigError(f"--temporal-weight must be in [0, 1], got {weight}")
        self.weight, self.measure = weight, measure
        self.flow = flow_lib.Flow("medium", FLOW_SIDE) if weight > 0 or needs_flow else None
        # the warping error uses full-resolution flow of its own, not the blending's
        self.metric_flow = flow_lib.Flow() if measure else None
        self._metric: Optional[tuple] = None
        self._grey: Optional[np.ndarray] = None
        self._output: Optional[np.ndarray] = None
        self.current: Optional[tuple] = None  # (backward flow, trust mask) into the current frame
        self.errors: list[float] = []

    def motion(self, frame: np.ndarray) -> Optional[tuple]:
        """The flow from the previous frame into `frame`, or None (first frame, or no flow needed)."""
        if self.flow is None and self.metric_flow is None:
            return None
        current, previous = flow_lib.grey(frame), self._grey
        self._grey = current
        self.current = self._metric = None
        if previous is None:
            return None
        if self.flow is not None:
            self.current = self.flow.backward(previous, current)
        if self.metric_flow is not None:
            self._metric = self.metric_flow.backward(previous, current)
        return self.current

    def blend(self, stylized: np.ndarray) -> np.ndarray:
        out = stylized
        if self.current is not None and self._output is not None and self.weight > 0:
            back, trusted = self.current
            warped = flow_lib.warp(self._output, back)
            out = stylized + (self.weight * trusted)[..., None] * (warped - stylized)
        if self._metric is not None and self._output is not None:
            self.errors.append(pair_warping_error(self._output, out, *self._metric))
        self._output = out
        return out


class MaskSmoother:
    """A person mask carried along the flow: m_t = s·W(m_{t−1}) + (1 − s)·segment(frame_t) where trusted."""

    def __init__(self, segment: Callable[[np.ndarray], np.ndarray], smoothing: float = 0.5):
        self.segment, self.smoothing = segment, smoothing
        self._mask: Optional[np.ndarray] = None

    def __call__(self, frame: np.ndarray, motion: Optional[tuple]) -> np.ndarray:
        mask = np.asarray(self.segment(frame), np.float32)
        if self._mask is not None and motion is not None:
            back, trusted = motion
            keep = self.smoothing * trusted
            mask = keep * flow_lib.warp(self._mask, back) + (1.0 - keep) * mask
        self._mask = mask
        return mask


class FaceTracker:
    """The faces of each frame: found by `find` (frame → faces) every `every` frames and whenever
    none are held, carried along the flow in between: every landmark, keypoint and box corner
    moved to where the flow says it went. The face region follows a moving face at a fraction
    of the finder's cost, and does not flicker with the finder's frame-to-frame noise."""

    def __init__(self, find: Callable[[np.ndarray], list], every: int = 5):
        if every < 1:
            raise ConfigError(f"--face-every must be at least 1 frame, got {every}")
        self.find, self.every = find, every
        self._faces: list = []
        self._count = 0

    def __call__(self, frame: np.ndarray, motion: Optional[tuple]) -> list:
        due = self._count % self.every == 0 or not self._faces
        self._count += 1
        if due or motion is None:
            self._faces = self.find(frame)
        else:
            self._faces = [carried(face, motion[0]) for face in self._faces]
        return self._faces


def carried(face, back: np.ndarray):
    """`face` (a `tfstyle.portraits.faces.Face` of the previous frame) moved into the current one,
    given the backward flow `back` [H, W, 2] (current pixel p came from p + back(p))."""
    import dataclasses

    def move(points: np.ndarray) -> np.ndarray:
        xy = np.asarray(points, np.float64)[:, :2]
        moved = xy.copy()
        for _ in range(3):  # solve q + back(q) = p by fixed-point steps
            flow = _sample(back, moved)
            moved = xy - flow
        return moved

    corners = face.box.reshape(2, 2)
    box = move(corners).reshape(4)
    keypoints = move(face.keypoints).astype(np.float32)
    landmarks = face.landmarks
    if landmarks is not None:
        landmarks = np.concatenate([move(landmarks), landmarks[:, 2:]], axis=1).astype(np.float32)
    return dataclasses.replace(face, box=box.astype(np.float32), keypoints=keypoints, landmarks=landmarks)


def _sample(field: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples [N, 2] of `field` [H, W, 2] at image points (x, y), pixel centres at +0.5."""
    import scipy.ndimage

    coords = [points[:, 1] - 0.5, points[:, 0] - 0.5]
    sample = scipy.ndimage.map_coordinates
    return np.stack([sample(field[..., c], coords, order=1, mode="nearest") for c in range(2)], axis=1)


class _Writer:
    """H.264 video + the input's audio, muxed as they come, into a temporary file."""

    def __init__(self, path: str, info: VideoInfo, size, crf: int, source: str, start: float, duration):
        self.path, self.temp = path, f"{path}.tmp-{os.getpid()}{os.path.splitext(path)[1]}"
        self.out = av().open(self.temp, "w")
        fps = fractions.Fraction(info.fps).limit_denominator(1001 * 1000)
        self.video = self.out.add_stream("libx264", rate=fps, options={"crf": str(crf)})
        self.video.width, self.video.height = size[1], size[0]
        self.video.pix_fmt = "yuv420p"
        self.video.codec_context.time_base = 1 / fps
        if info.rotation:
            self.video.set_display_rotation(info.rotation)
        self.fps, self.count = fps, 0
        self.audio_in: Any = None
        self.audio: Any = None
        self.copy = True
        self.start, self.end = start, (None if duration is None else start + duration)
        if info.audio_codec:
            self.audio_in = av().open(source)
            stream_in = self.audio_in.streams.audio[0]
            allowed = CONTAINERS.get(os.path.splitext(path)[1].lower())
            self.copy = allowed is None or info.audio_codec in allowed
            if self.copy:
                self.audio = self.out.add_stream_from_template(stream_in)
            else:
                self.audio = self.out.add_stream("aac", rate=stream_in.codec_context.sample_rate)
            if start > 0:
                self.audio_in.seek(int(start / stream_in.time_base), stream=stream_in, backward=True)
            self.packets = self.audio_in.demux(stream_in)
            self.pending = None

    def write(self, image: np.ndarray) -> None:
        frame = av().VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = self.count, 1 / self.fps
        self.count += 1
        for packet in self.video.encode(frame):
            self.out.mux(packet)
        self._audio_until(float(self.count / self.fps))

    def _audio_until(self, seconds: Optional[float]) -> None:
        """Mux the audio up to `seconds` of output time (None: to the end)."""
        if self.audio is None:
            return
        while True:
            packet = self.pending or next(self.packets, None)
            self.pending = None
            if packet is None or packet.pts is None:
                if packet is None:
                    return
                continue
            t = float(packet.pts * packet.time_base)
            if self.end is not None and t >= self.end:
                return
            if seconds is not None and t - self.start > seconds:
                self.pending = packet
                return
            if t < self.start - 1e-6:
                continue
            self._mux_audio(packet, t)

    def _mux_audio(self, packet, t: float) -> None:
        shift = int(round(self.start / packet.time_base))
        if self.copy:
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            packet.stream = self.audio
            self.out.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None
            for encoded in self.audio.encode(frame):
                self.out.mux(encoded)

    def close(self, complete: bool) -> None:
        try:
            if complete:
                for packet in self.video.encode():
                    self.out.mux(packet)
                self._audio_until(None)
                if self.audio is not None and not self.copy:
                    for packet in self.audio.encode(None):
                        self.out.mux(packet)
        finally:
            self.out.close()
            if self.audio_in is not None:
                self.audio_in.close()
            if complete:
                os.replace(self.temp, self.path)
            elif os.path.exists(self.temp):
                os.unlink(self.temp)


def even_size(height: int, width: int, max_size: int) -> tuple[int, int]:
    """The frame size: the longer side at most `max_size` (never enlarged), both even (yuv420p)."""
    scale = min(1.0, max_size / max(height, width))
    return max(2, int(height * scale) // 2 * 2), max(2, int(width * scale) // 2 * 2)


def check_output(path: str) -> None:
    """Refuse an output the writer cannot make, before any frame is decoded."""
    from tfstyle.files import check_writable

    extension = os.path.splitext(path)[1].lower()
    if extension not in CONTAINERS:
        raise ConfigError(f"--output {path}: write {', '.join(CONTAINERS)} (H.264 video)")
    check_writable(path, "--output")


def stylize_video(
    source: str,
    output: str,
    stylize: Callable[[np.ndarray], np.ndarray],
    *,
    max_size: int = 720,
    temporal_weight: float = 0.5,
    crf: int = 18,
    start: float = 0.0,
    duration: Optional[float] = None,
    measure: bool = False,
    progress: bool = False,
    segment: Optional[Callable[[np.ndarray], np.ndarray]] = None,
    faces: Optional[FaceTracker] = None,
) -> VideoReport:
    """Stylize every frame of `source` into `output` (see the module docstring).

    `stylize` maps a frame [H, W, 3] float32 in [0, 1] (already fitted to
    `max_size`, even sides) to an image of the same size; with `segment` (frame
    → person mask [H, W]) it is called as ``stylize(frame, mask=mask)`` with the mask
    smoothed along the flow (`MaskSmoother`); with `faces` (a `FaceTracker`) also with
    ``faces=`` the frame's faces, carried along the flow. `measure` also computes the
    output's warping error (Lai et al. 2018).
    """
    if not 0 <= crf <= MAX_CRF:
        raise ConfigError(f"--crf must be in [0, {MAX_CRF}], got {crf}")
    check_output(output)
    info = probe_span(source, start, duration)
    size = even_size(info.height, info.width, max_size)
    blender = TemporalBlender(temporal_weight, measure, needs_flow=segment is not None or faces is not None)
    smoother = MaskSmoother(segment) if segment is not None else None
    writer = _Writer(output, info, size, crf, source, start, duration)
    stages = dict.fromkeys(("decode", "flow", "network", "encode"), 0.0)
    started, count, complete = time.perf_counter(), 0, False
    try:
        decoded = frames(source, start, duration)
        while True:
            t0 = time.perf_counter()
            frame = next(decoded, None)
            if frame is None:
                break
            image = _resize(frame, size)
            t1 = time.perf_counter()
            motion = blender.motion(image)
            t2 = time.perf_counter()
            regions: dict = {}
            if smoother is not None:
                regions["mask"] = smoother(image, motion)
            if faces is not None:
                regions["faces"] = faces(image, motion)
            stylized = stylize(image, **regions)
            stylized = np.asarray(stylized, np.float32)
            t3 = time.perf_counter()
            out = blender.blend(stylized)
            t4 = time.perf_counter()
            writer.write((np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))
            t5 = time.perf_counter()
            for stage, seconds in zip(stages, (t1 - t0, t2 - t1 + t4 - t3, t3 - t2, t5 - t4)):
                stages[stage] += seconds
            count += 1
            if progress:
                _progress(count, info, start, duration, time.perf_counter() - started)
        if count == 0:
            raise ImageError(f"{source}: no frames between {start} s and the end; check --start/--duration")
        complete = True
    finally:
        writer.close(complete)
        if progress:
            print(file=sys.stderr)
    seconds = time.perf_counter() - started
    error = float(np.nanmean(blender.errors)) if blender.errors else None
    return VideoReport(count, seconds, count / seconds, error, stages)


def _progress(count: int, info: VideoInfo, start: float, duration: Optional[float], elapsed: float) -> None:
    """One updating line on stderr: frames, fps and the time left (when the length is known)."""
    span = (duration if duration is not None else max(info.duration - start, 0.0)) or 0.0
    total = int(round(span * float(info.fps))) if span else info.frames
    fps = count / elapsed
    left = f", {max(total - count, 0) / fps:.0f} s left" if total and fps else ""
    of = f"/{total}" if total else ""
    print(f"\rframe {count}{of}, {fps:.1f} fps{left}  ", end="", file=sys.stderr, flush=True)


def _resize(frame: np.ndarray, size) -> np.ndarray:
    image = frame.astype(np.float32) / 255.0
    if image.shape[:2] == tuple(size):
        return image
    return flow_lib.cv2().resize(image, (size[1], size[0]), interpolation=flow_lib.cv2().INTER_AREA)
