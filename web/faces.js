// Faces in the browser: MediaPipe's BlazeFace (short range) + Face Mesh on LiteRT.js, written as
// tfstyle.portraits.faces does it in Python (the same models, anchors, windows, weighted NMS, two
// mesh passes, rotated crops), and the face oval as a mask for the portrait model. Images are
// Float32Array RGB in [0, 1], row-major [size, size, 3]; points are pixels, pixel centres at +0.5.

const DETECTOR_SIZE = 128;
const MESH_SIZE = 192;
const ANCHOR_STRIDES = [8, 16, 16, 16];
const MIN_SCORE = 0.5;
const NMS_IOU = 0.3;
const ROI_SCALE = 1.5;
const MIN_PRESENCE = 0.5;
const WINDOW_SCALES = [2, 4];
const OUTER_EYE_CORNERS = [33, 263];
// MediaPipe's FACEMESH_FACE_OVAL as one ring (tfstyle.portraits.faces.FACE_OVAL)
export const FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
  400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109];

function ssdAnchors() {  // tfstyle.portraits.faces.ssd_anchors: 16²×2 + 8²×6 = 896 centres
  const anchors = [];
  let layer = 0;
  while (layer < ANCHOR_STRIDES.length) {
    const stride = ANCHOR_STRIDES[layer];
    let perCell = 0;
    while (layer < ANCHOR_STRIDES.length && ANCHOR_STRIDES[layer] === stride) { perCell += 2; layer++; }
    const cells = Math.ceil(DETECTOR_SIZE / stride);
    for (let y = 0; y < cells; y++) for (let x = 0; x < cells; x++) {
      for (let k = 0; k < perCell; k++) anchors.push([(x + 0.5) / cells, (y + 0.5) / cells]);
    }
  }
  return anchors;
}
const ANCHORS = ssdAnchors();

// tf.image.resize(..., antialias=True) (bilinear = a triangle kernel stretched when shrinking):
// TensorFlow's ScaleAndTranslate spans, one axis at a time.
function spans(inSize, outSize) {
  const inv = inSize / outSize;
  const kernelScale = Math.max(inv, 1);
  const out = [];
  for (let x = 0; x < outSize; x++) {
    const sample = (x + 0.5) * inv;
    let start = Math.ceil(sample - kernelScale - 0.5);
    let end = Math.floor(sample + kernelScale - 0.5);
    start = Math.min(Math.max(start, 0), inSize - 1);
    end = Math.min(Math.max(end, 0), inSize - 1) + 1;
    const weights = [];
    let total = 0;
    for (let s = start; s < end; s++) {
      const w = Math.max(0, 1 - Math.abs((s + 0.5 - sample) / kernelScale));
      weights.push(w); total += w;
    }
    out.push({start, weights: total > 0 ? weights.map((w) => w / total) : weights});
  }
  return out;
}

function resize(image, height, width, outHeight, outWidth) {
  const rows = spans(height, outHeight), cols = spans(width, outWidth);
  const temp = new Float32Array(height * outWidth * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < outWidth; x++) {
    const {start, weights} = cols[x];
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * image[(y * width + start + k) * 3 + c];
      temp[(y * outWidth + x) * 3 + c] = sum;
    }
  }
  const out = new Float32Array(outHeight * outWidth * 3);
  for (let y = 0; y < outHeight; y++) {
    const {start, weights} = rows[y];
    for (let x = 0; x < outWidth; x++) for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * temp[((start + k) * outWidth + x) * 3 + c];
      out[(y * outWidth + x) * 3 + c] = sum;
    }
  }
  return out;
}

function boxIou(a, b) {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const area = (q) => Math.max(0, q[2] - q[0]) * Math.max(0, q[3] - q[1]);
  return (w * h) / Math.max(area(a) + area(b) - w * h, 1e-12);
}

function weightedNms(found) {  // MediaPipe's WEIGHTED suppression (tfstyle.portraits.faces.weighted_nms)
  let order = found.slice().sort((a, b) => b.score - a.score);
  const kept = [];
  while (order.length) {
    const best = order[0];
    const group = order.filter((d) => boxIou(best.box, d.box) > NMS_IOU);
    const total = group.reduce((s, d) => s + d.score, 0);
    const box = [0, 1, 2, 3].map((i) => group.reduce((s, d) => s + d.box[i] * d.score, 0) / total);
    const keypoints = best.keypoints.map((_, k) => [0, 1].map(
        (i) => group.reduce((s, d) => s + d.keypoints[k][i] * d.score, 0) / total));
    kept.push({box, keypoints, score: best.score});
    order = order.filter((d) => boxIou(best.box, d.box) <= NMS_IOU);
  }
  return kept;
}

async function detectWindow(run, detector, image, size, top, left, side, whole) {
  const window = new Float32Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const sy = top + y, sx = left + x;
      if (sy < 0 || sx < 0 || sy >= size || sx >= size) continue;
      for (let c = 0; c < 3; c++) window[(y * side + x) * 3 + c] = image[(sy * size + sx) * 3 + c];
    }
  }
  const small = resize(window, side, side, DETECTOR_SIZE, DETECTOR_SIZE).map((v) => v * 2 - 1);
  const outputs = await run(detector, {input: [small, [1, DETECTOR_SIZE, DETECTOR_SIZE, 3]]});
  const raw = Object.values(outputs).find((v) => v.length === 896 * 16);
  const logits = Object.values(outputs).find((v) => v.length === 896);
  const y0 = Math.max(top, 0), x0 = Math.max(left, 0);
  const y1 = Math.min(top + side, size), x1 = Math.min(left + side, size);
  const found = [];
  for (let i = 0; i < 896; i++) {
    const score = 1 / (1 + Math.exp(-Math.min(Math.max(logits[i], -100), 100)));
    if (score < MIN_SCORE) continue;
    const r = raw.subarray(i * 16, i * 16 + 16);
    const [ax, ay] = ANCHORS[i];
    const cx = r[0] / DETECTOR_SIZE + ax, cy = r[1] / DETECTOR_SIZE + ay;
    const hw = r[2] / DETECTOR_SIZE / 2, hh = r[3] / DETECTOR_SIZE / 2;
    const box = [cx - hw, cy - hh, cx + hw, cy + hh];
    if (!whole) {  // clear of the window's inner borders, and small in it (FaceFinder._window)
      const big = Math.max(box[2] - box[0], box[3] - box[1]) >= 0.5;
      const lowX = x0 > 0 ? 0.02 : 0, lowY = y0 > 0 ? 0.02 : 0;
      const highX = 1 - (x1 < size ? 0.02 : 0), highY = 1 - (y1 < size ? 0.02 : 0);
      if (big || box[0] < lowX || box[1] < lowY || box[2] > highX || box[3] > highY) continue;
    }
    const keypoints = [];
    for (let k = 0; k < 6; k++) {
      keypoints.push([(r[4 + 2 * k] / DETECTOR_SIZE + ax) * side + left, (r[5 + 2 * k] / DETECTOR_SIZE + ay) * side + top]);
    }
    found.push({box: [box[0] * side + left, box[1] * side + top, box[2] * side + left, box[3] * side + top], keypoints, score});
  }
  return found;
}

// The face detections of a square image, best first (FaceFinder.detect: whole image + windows).
async function detect(run, detector, image, size) {
  const found = await detectWindow(run, detector, image, size, 0, 0, size, true);
  for (const k of WINDOW_SCALES) {
    const side = Math.ceil(size / k);
    const step = Math.max(1, Math.floor(side / 2));
    const starts = new Set();
    for (let p = 0; p <= Math.max(size - side, 0); p += step) starts.add(p);
    starts.add(Math.max(size - side, 0));
    const sorted = [...starts].sort((a, b) => a - b);
    for (const y of sorted) for (const x of sorted) found.push(...await detectWindow(run, detector, image, size, y, x, side, false));
  }
  return weightedNms(found);
}

function cropMatrix(centre, side, angle, size) {  // crop pixel centres (u, v) → image (x, y)
  const c = Math.cos(angle) * side / size, s = Math.sin(angle) * side / size;
  return [[c, -s, centre[0] - (c * size / 2 - s * size / 2)], [s, c, centre[1] - (s * size / 2 + c * size / 2)]];
}

// ImageProjectiveTransformV3, bilinear, NEAREST fill (edges repeated): tfstyle.portraits.faces.crop_affine
function cropAffine(image, height, width, m, size) {
  const out = new Float32Array(size * size * 3);
  const clamp = (v, n) => Math.min(Math.max(v, 0), n - 1);
  for (let v = 0; v < size; v++) for (let u = 0; u < size; u++) {
    const x = clamp(m[0][0] * (u + 0.5) + m[0][1] * (v + 0.5) + m[0][2] - 0.5, width);
    const y = clamp(m[1][0] * (u + 0.5) + m[1][1] * (v + 0.5) + m[1][2] - 0.5, height);
    const xf = Math.floor(x), yf = Math.floor(y);
    const xc = Math.min(xf + 1, width - 1), yc = Math.min(yf + 1, height - 1);
    for (let c = 0; c < 3; c++) {
      const at = (yy, xx) => image[(yy * width + xx) * 3 + c];
      const top = (xf + 1 - x) * at(yf, xf) + (x - xf) * at(yf, xc);
      const bottom = (xf + 1 - x) * at(yc, xf) + (x - xf) * at(yc, xc);
      out[(v * size + u) * 3 + c] = (yf + 1 - y) * top + (y - yf) * bottom;
    }
  }
  return out;
}

function faceRoi(face) {  // tfstyle.portraits.faces.face_roi
  const [[x0, y0], [x1, y1]] = face.keypoints;
  let angle = -Math.atan2(-(y1 - y0), x1 - x0);
  angle = ((angle + Math.PI) % (2 * Math.PI) + 2 * Math.PI) % (2 * Math.PI) - Math.PI;
  const centre = [(face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2];
  return [centre, ROI_SCALE * Math.max(face.box[2] - face.box[0], face.box[3] - face.box[1]), angle];
}

function landmarkRoi(points) {  // tfstyle.portraits.faces.landmark_roi
  const [a, b] = OUTER_EYE_CORNERS.map((i) => points[i]);
  const angle = -Math.atan2(-(b[1] - a[1]), b[0] - a[0]);
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const low = [Math.min(...xs), Math.min(...ys)], high = [Math.max(...xs), Math.max(...ys)];
  return [[(low[0] + high[0]) / 2, (low[1] + high[1]) / 2], ROI_SCALE * Math.max(high[0] - low[0], high[1] - low[1]), angle];
}

async function meshPass(run, mesh, image, size, [centre, side, angle]) {
  const m = cropMatrix(centre, side, angle, MESH_SIZE);
  const crop = cropAffine(image, size, size, m, MESH_SIZE);
  const outputs = await run(mesh, {input_1: [crop, [1, MESH_SIZE, MESH_SIZE, 3]]});
  const raw = Object.values(outputs).find((v) => v.length === 1404);
  const logit = Object.values(outputs).find((v) => v.length === 1)[0];
  const points = [];
  for (let i = 0; i < 468; i++) {
    const u = raw[3 * i], v = raw[3 * i + 1];
    points.push([m[0][0] * u + m[0][1] * v + m[0][2], m[1][0] * u + m[1][1] * v + m[1][2]]);
  }
  return {points, presence: 1 / (1 + Math.exp(-logit))};
}

// Faces with their 468 landmarks (FaceFinder.find): detections, then two mesh passes each.
export async function findFaces(run, models, image, size) {
  const faces = [];
  for (const face of await detect(run, models.face_detector, image, size)) {
    const first = await meshPass(run, models.face_landmarks, image, size, faceRoi(face));
    const second = await meshPass(run, models.face_landmarks, image, size, landmarkRoi(first.points));
    if (second.presence >= MIN_PRESENCE) faces.push({...face, landmarks: second.points, presence: second.presence});
  }
  return faces;
}

// The union of the faces' ovals, 1 where a pixel centre is inside (even-odd rule), [size²].
export function ovalMask(faces, size) {
  const mask = new Float32Array(size * size);
  for (const face of faces) {
    const ring = FACE_OVAL.map((i) => face.landmarks[i]);
    for (let y = 0; y < size; y++) {
      const py = y + 0.5;
      const crossings = [];
      for (let i = 0; i < ring.length; i++) {
        const [ax, ay] = ring[i], [bx, by] = ring[(i + 1) % ring.length];
        if ((ay <= py) !== (by <= py)) crossings.push(ax + (py - ay) * (bx - ax) / (by - ay));
      }
      crossings.sort((a, b) => a - b);
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        for (let x = Math.max(0, Math.ceil(crossings[k] - 0.5)); x < size && x + 0.5 <= crossings[k + 1]; x++) mask[y * size + x] = 1;
      }
    }
  }
  return mask;
}
