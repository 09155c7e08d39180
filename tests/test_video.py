"""`tfstyle video` and `tfstyle.video.stream`: timing, audio and rotation kept, parts of a clip, the
warping error, temporal blending on the real Magenta weights, portrait mode, refusals.

Clips are generated here from the example photos with PyAV (tests/clips.py): known motion,
an AAC or PCM tone, a display rotation."""

import json

import numpy as np
import pytest
from clips import cutout_frames, pan_frames, read_clip, write_clip, zoom_frames
from helpers import DATA, PAINTING, PORTRAIT, psnr

from tfstyle.image import load_image

pytest.importorskip("av", reason="tfstyle video needs pip install -e '.[video]'")
pytest.importorskip("cv2", reason="tfstyle video needs pip install -e '.[video]'")
from tfstyle.video import stream as video_lib  # noqa: E402
from tfstyle.video.metrics import warping_error  # noqa: E402

SIZE = (96, 128)


def photo(path=PORTRAIT):
    return (load_image(path) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """24 frames at 12 fps panning over the portrait, 2 s of AAC, displayed rotated by 90°."""
    path = tmp_path_factory.mktemp("clips") / "pan.mp4"
    return write_clip(path, pan_frames(photo(), 24, SIZE), fps=12, audio_seconds=2.0, rotation=90)


@pytest.fixture(scope="module")
def kept(clip, tmp_path_factory):
    """(input, output) as read back by PyAV, for a clip stylized with `1 - frame`."""
    out = tmp_path_factory.mktemp("kept") / "out.mp4"
    report = video_lib.stylize_video(str(clip), str(out), lambda f: 1.0 - f, temporal_weight=0.0)
    assert not list(out.parent.glob("*.tmp-*"))
    return read_clip(clip), read_clip(out), report


def test_frame_count_is_kept(kept):
    (frames_in, *_), (frames, *_), report = kept
    assert report.frames == len(frames) == len(frames_in) == 24
    # each output frame is its input frame inverted, through two H.264 encodes
    assert min(psnr(255 - a, b) for a, b in zip(frames_in, frames)) > 30


def test_frame_rate_is_kept(kept):
    assert kept[1][1] == kept[0][1] == 12


def test_duration_is_kept(kept):
    assert kept[1][2] == pytest.approx(kept[0][2])


def test_rotation_is_kept(kept):
    assert kept[1][3] == kept[0][3] == 90


def test_audio_stream_is_kept(kept):
    assert kept[1][4] == kept[0][4] == "aac" and kept[1][5] == pytest.approx(kept[0][5], abs=0.03)


def test_start_and_duration_take_a_part(clip, tmp_path):
    out = tmp_path / "part.mp4"
    video_lib.stylize_video(str(clip), str(out), lambda f: f, start=0.5, duration=1.0, temporal_weight=0.0)
    frames, fps, duration, _, audio, audio_seconds = read_clip(out)
    assert (
        len(frames) == 12 and duration == pytest.approx(1.0) and audio_seconds == pytest.approx(1.0, abs=0.03)
    )
    first = read_clip(clip)[0][6]  # the frame at 0.5 s
    assert psnr(frames[0], first) > 35


def test_audio_the_container_cannot_hold_is_reencoded(tmp_path):
    source = write_clip(
        tmp_path / "pcm.mov", pan_frames(photo(), 12, SIZE), audio_seconds=1.0, audio_codec="pcm_s16le"
    )
    assert read_clip(source)[4] == "pcm_s16le"
    video_lib.stylize_video(str(source), str(tmp_path / "out.mp4"), lambda f: f, temporal_weight=0.0)
    _, _, _, _, audio, audio_seconds = read_clip(tmp_path / "out.mp4")
    assert audio == "aac" and audio_seconds == pytest.approx(1.0, abs=0.05)


def test_warping_error_is_zero_for_the_input_itself_and_large_for_noise(rng):
    frames = [f.astype(np.float32) / 255 for f in pan_frames(photo(), 8, SIZE)]
    assert warping_error(frames, frames) < 1e-3  # the input follows its own flow
    noise = [rng.uniform(size=f.shape).astype(np.float32) for f in frames]
    assert warping_error(frames, noise) > 0.1  # 3 channels of independent U(0,1): about 0.5


@pytest.mark.parametrize("motion", ["pan", "zoom", "cutout"])
def test_temporal_blending_lowers_the_warping_error_on_real_weights(magenta, tmp_path, motion):
    if motion == "pan":
        frames = pan_frames(photo(), 16, SIZE, step=3)
    elif motion == "zoom":
        frames = zoom_frames(photo(), 16, SIZE)
    else:
        frames = cutout_frames(photo(DATA / "man_selfie_with_sheep.jpg"), photo(), 16, SIZE)
    source = write_clip(tmp_path / f"{motion}.mp4", frames)
    style = magenta.encode_style(load_image(PAINTING))
    errors = {}
    for weight in (0.0, 0.5):
        report = video_lib.stylize_video(
            str(source),
            str(tmp_path / f"out{weight}.mp4"),
            lambda f: magenta.stylize(f, encoded=style),
            temporal_weight=weight,
            measure=True,
        )
        errors[weight] = report.warping_error
    print(motion, errors)
    assert errors[0.5] <= 0.6 * errors[0.0]


def cli(*argv):
    from tfstyle.cli import main

    return main([str(a) for a in argv])


def test_cli_video_and_portrait_mode(magenta, clip, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    base = ["video", "--model", "magenta", "--input", clip, "--style", PAINTING, "--output", out, "--json"]
    assert cli(*base) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["frames"] == 24 and summary["warping_error"] > 0
    assert len(read_clip(out)[0]) == 24
    assert cli(*base, "--portrait", "--duration", "0.5") == 0  # 6 frames show portrait mode runs
    assert len(read_clip(out)[0]) == 6


@pytest.mark.parametrize(
    "make, extra, message",
    [
        (lambda p: p.write_text("hello"), [], "not a video FFmpeg can read"),
        (
            lambda p: p.write_bytes(open(p.parent / "good.mp4", "rb").read()[:4000]),
            [],
            "not a video FFmpeg can read",
        ),
        (None, ["--start", "10"], "--start 10.0: the video lasts"),
        (None, ["--output-ext", ".avi"], "write .mp4, .mov, .mkv"),
        (None, ["--crf", "60"], "--crf must be in [0, 51]"),
        (None, ["--temporal-weight", "1.5"], "--temporal-weight must be in [0, 1]"),
        (None, ["--output-ext", "/missing/out.mp4"], "does not exist; create it first"),
    ],
)
def test_bad_input_one_line_exit_2_no_output(clip, tmp_path, capsys, make, extra, message, no_network):
    import shutil

    shutil.copy(clip, tmp_path / "good.mp4")
    source = tmp_path / "input.mp4"
    if make is None:
        shutil.copy(clip, source)
    else:
        make(source)
    out = tmp_path / "out.mp4"
    if extra[:1] == ["--output-ext"]:
        out = tmp_path / extra[1].lstrip("/") if extra[1].startswith("/") else tmp_path / f"out{extra[1]}"
        extra = []
    code = cli(
        "video", "--weights", "random", "--input", source, "--style", PAINTING, "--output", out, *extra
    )
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not out.exists() and not list(tmp_path.glob("out*"))


def test_missing_extra_names_the_install_line(clip, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    out = tmp_path / "out.mp4"
    assert cli("video", "--weights", "random", "--input", clip, "--style", PAINTING, "--output", out) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "pip install 'av'" in err[0] and "[video]" in err[0], err
    assert not out.exists()


@pytest.fixture(scope="module")
def face_clip():
    """16 frames, 240×320: the laughing woman's head sliding 6 px a frame across the colonnade."""
    from clips import face_frames

    return list(face_frames(photo(DATA / "colonnade_walkway_depth.jpg"), photo(), 16, (240, 320)))


def test_faces_carried_along_the_flow_follow_a_moving_face(face_clip):
    """Faces found every 5th frame and carried along the flow in between: on every frame the
    face oval's IoU with the oval of a fresh detection on that frame is ≥ 0.8 (without carrying,
    the 24 px the face moves in four frames drop it to ~0.6)."""
    pytest.importorskip("ai_edge_litert")
    from tfstyle.portraits.compose import faces_mask
    from tfstyle.portraits.faces import FaceFinder
    from tfstyle.portraits.settings import PortraitSettings

    finder = FaceFinder()
    tracker = video_lib.FaceTracker(finder.find, every=5)
    blender = video_lib.TemporalBlender(0.0, needs_flow=True)
    settings = PortraitSettings()
    found = 0
    for frame in face_clip:
        image = frame.astype(np.float32) / 255.0
        tracked = faces_mask(tracker(image, blender.motion(image)), image.shape, settings) > 0.5
        fresh_faces = finder.find(image)
        fresh = faces_mask(fresh_faces, image.shape, settings) > 0.5
        found += bool(fresh_faces)
        iou = (tracked & fresh).sum() / max(1, (tracked | fresh).sum())
        assert iou >= 0.8, iou
    assert found == len(face_clip)


@pytest.mark.slow
def test_cli_video_portrait_tracks_faces_and_stays_stable(magenta, face_clip, tmp_path, capsys):
    """`tfstyle video --portrait` with its faces: temporal blending keeps the warping error at most
    0.6× that of independent frames; --face-every without --portrait is refused."""
    source = write_clip(tmp_path / "face.mp4", face_clip)
    errors = {}
    for weight in (0.0, 0.5):
        out = tmp_path / f"out{weight}.mp4"
        argv = ["video", "--model", "magenta", "--input", source, "--style", PAINTING, "--output", out]
        assert cli(*argv, "--portrait", "--temporal-weight", weight, "--json") == 0
        errors[weight] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["warping_error"]
    with capsys.disabled():
        print(f"warping error, portrait with tracked faces: {errors}")
    assert errors[0.5] <= 0.6 * errors[0.0]
    out = tmp_path / "refused.mp4"
    argv = ["video", "--model", "magenta", "--input", source, "--style", PAINTING, "--output", out]
    assert cli(*argv, "--face-every", "3") == 2
    assert "need --portrait" in capsys.readouterr().err and not out.exists()
