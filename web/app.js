// tfstyle in the browser: the exported Magenta models (python -m export.tflite --model=magenta
// --web DIR) on LiteRT.js's wasm backend. Query: ?models=URL (default ./models/), ?test=1 with
// &content=PNG&style=PNG[&strength=S][&portrait=1] runs once and POSTs the outputs to /result.
// Portrait mode: the person by MediaPipe's selfie segmenter, the faces' ovals by BlazeFace + Face
// Mesh (faces.js), both fed to the exported portrait model.
import {Tensor, loadAndCompile, loadLiteRt} from '@litertjs/core';
import {findFaces, ovalMask} from './faces.js';

const params = new URLSearchParams(location.search);
const modelsUrl = new URL(params.get('models') || './models/', location.href);
const ACCELERATOR = params.get('accelerator') || 'wasm';  // 'webgpu' where the browser has it
// wasm threads need a cross-origin isolated page (COOP same-origin + COEP require-corp headers)
const THREADS = globalThis.crossOriginIsolated ? Number(params.get('threads') || navigator.hardwareConcurrency || 1) : 1;
const MAX_SIDE = 2048;  // larger pictures are scaled down on decoding (the models see 384² anyway)
const $ = (id) => document.getElementById(id);

function say(text) { $('message').textContent = text; }

async function fetchBytes(url) {
  // loadAndCompile(url) does not check the HTTP status: fetch the bytes ourselves
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function loadModels() {
  await loadLiteRt(new URL('./node_modules/@litertjs/core/wasm/', location.href).href, {threads: THREADS > 1});
  const manifest = await (await fetch(new URL('manifest.json', modelsUrl))).json();
  const models = {};
  for (const name of ['style_encoder', 'transfer', 'portrait', 'segmenter', 'face_detector', 'face_landmarks']) {
    const entry = manifest.models[name];
    if (!entry) continue;
    models[name] = await loadAndCompile(await fetchBytes(new URL(entry.file, modelsUrl)), {
      accelerator: ACCELERATOR, cpuOptions: {numThreads: THREADS}});
  }
  return {manifest, models};
}

// [1, h, w, 3] float32 in [0, 1] from a drawable (image, bitmap) resized to w×h by the canvas
function pixels(source, width, height) {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  context.drawImage(source, 0, 0, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  const out = new Float32Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4) {
    out[j++] = rgba[i] / 255; out[j++] = rgba[i + 1] / 255; out[j++] = rgba[i + 2] / 255;
  }
  return out;
}

async function run(model, inputs) {
  const tensors = {};
  for (const [name, [data, shape]] of Object.entries(inputs)) {
    const tensor = new Tensor(data, shape);
    tensors[name] = ACCELERATOR === 'wasm' ? tensor : await tensor.moveTo(ACCELERATOR);
    if (tensors[name] !== tensor) tensor.delete();
  }
  const outputs = await model.run(tensors);
  const result = {};
  for (const [name, tensor] of Object.entries(outputs)) {
    const local = await tensor.moveTo('wasm');
    result[name] = local.toTypedArray().slice();
    local.delete();
  }
  Object.values(tensors).forEach((t) => t.delete());
  return result;
}

// tfstyle.image.to_uint8: round half to even of clip(x, 0, 1) * 255 in float32
function toUint8(value) {
  const x = Math.fround(Math.min(Math.max(value, 0), 1) * 255);
  const r = Math.round(x);
  return (r - x === 0.5 && r % 2 === 1) ? r - 1 : r;
}

async function stylize(app, content, style, strength, portrait) {
  const {size, style_size: styleSize} = app.manifest;
  const contentPixels = pixels(content, size, size);
  const {style_vector: styleVector} = await run(app.models.style_encoder,
      {style: [pixels(style, styleSize, styleSize), [1, styleSize, styleSize, 3]]});
  let vector = styleVector;
  let own = null;
  if (strength < 1 || portrait) {
    own = (await run(app.models.style_encoder,
        {style: [pixels(content, styleSize, styleSize), [1, styleSize, styleSize, 3]]})).style_vector;
    vector = styleVector.map((v, i) => strength * v + (1 - strength) * own[i]);
  }
  let image;
  let faceMask = null, personMask = null;
  if (portrait && app.models.portrait && app.models.segmenter) {
    const side = app.manifest.models.segmenter.size;
    const input = app.manifest.models.segmenter.input;
    const segmented = await run(app.models.segmenter, {[input]: [pixels(content, side, side), [1, side, side, 3]]});
    const mask = resizePlane(Object.values(segmented)[0], side, size);
    personMask = mask;
    faceMask = new Float32Array(size * size);
    if (app.models.face_detector && app.models.face_landmarks) {
      faceMask = ovalMask(await findFaces(run, app.models, contentPixels, size), size);
    }
    image = (await run(app.models.portrait, {
      content: [contentPixels, [1, size, size, 3]], style_vector: [vector, [1, 100]],
      content_vector: [own, [1, 100]], mask: [mask, [1, size, size, 1]],
      face_mask: [faceMask, [1, size, size, 1]],
    })).image;
  } else {
    image = (await run(app.models.transfer, {
      content: [contentPixels, [1, size, size, 3]], style_vector: [vector, [1, 100]],
    })).image;
  }
  return {styleVector, image, size, faceMask, personMask};
}

function resizePlane(plane, from, to) {  // nearest, for the person mask only (feathered inside)
  const out = new Float32Array(to * to);
  for (let y = 0; y < to; y++) for (let x = 0; x < to; x++) {
    out[y * to + x] = plane[Math.floor(y * from / to) * from + Math.floor(x * from / to)];
  }
  return out;
}

function draw(image, size) {
  const canvas = $('result');
  canvas.width = size; canvas.height = size;
  const data = new ImageData(size, size);
  for (let i = 0, j = 0; j < image.length; i += 4, j += 3) {
    data.data[i] = toUint8(image[j]); data.data[i + 1] = toUint8(image[j + 1]);
    data.data[i + 2] = toUint8(image[j + 2]); data.data[i + 3] = 255;
  }
  canvas.getContext('2d').putImageData(data, 0, 0);
  return data.data;
}

async function decode(blobOrUrl) {
  const blob = typeof blobOrUrl === 'string' ? await (await fetch(blobOrUrl)).blob() : blobOrUrl;
  if (!blob.type.startsWith('image/')) throw new Error(`${blob.name || 'file'}: not an image; choose a JPEG, PNG or WebP`);
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`${blob.name || 'file'}: cannot be decoded as an image`);
  }
  const longer = Math.max(bitmap.width, bitmap.height);
  if (longer > MAX_SIDE) {  // a huge photo: scale it down once, say so, keep the tab responsive
    const scale = MAX_SIDE / longer;
    const small = await createImageBitmap(bitmap, {
      resizeWidth: Math.round(bitmap.width * scale), resizeHeight: Math.round(bitmap.height * scale), resizeQuality: 'high'});
    say(`${bitmap.width}×${bitmap.height} scaled to ${small.width}×${small.height}`);
    bitmap.close();
    return small;
  }
  return bitmap;
}

async function main() {
  let app;
  try {
    say('loading models…');
    app = await loadModels();
    say('');
  } catch (error) {
    say(`could not load the models: ${error.message}`);
    if (params.get('test')) await post({error: String(error.message)});
    return;
  }
  if (params.get('bench')) {  // median milliseconds of the transfer model on a fixed input
    const {size} = app.manifest;
    const inputs = {content: [new Float32Array(size * size * 3).fill(0.5), [1, size, size, 3]],
      style_vector: [new Float32Array(100).fill(0.1), [1, 100]]};
    await run(app.models.transfer, inputs);  // warm-up
    const times = [];
    for (let i = 0; i < Number(params.get('bench')); i++) {
      const start = performance.now();
      await run(app.models.transfer, inputs);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    await post({median_ms: times[Math.floor(times.length / 2)], threads: THREADS, isolated: globalThis.crossOriginIsolated});
    return;
  }
  if (params.get('test')) {
    try {
      const [content, style] = await Promise.all([decode(params.get('content')), decode(params.get('style'))]);
      const out = await stylize(app, content, style, Number(params.get('strength') || 1), params.get('portrait') === '1');
      const u8 = draw(out.image, out.size);
      await post({style_vector: Array.from(out.styleVector), image: Array.from(out.image),
        image_u8: Array.from(u8.filter((_, i) => i % 4 !== 3)),
        face_mask: out.faceMask ? Array.from(out.faceMask) : null,
        person_mask: out.personMask ? Array.from(out.personMask) : null});
    } catch (error) {
      await post({error: String(error.message)});
    }
    return;
  }
  const chosen = {};
  for (const kind of ['content', 'style']) {
    const input = $(`${kind}-file`);
    const drop = $(`${kind}-drop`);
    const take = async (file) => {
      try { say(''); chosen[kind] = await decode(file); } catch (error) { say(error.message); }
      $('run').disabled = !(chosen.content && chosen.style);
    };
    input.addEventListener('change', () => input.files[0] && take(input.files[0]));
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); take(e.dataTransfer.files[0]); });
  }
  for (const painting of app.manifest.paintings || []) {
    const img = Object.assign(document.createElement('img'), {src: new URL(painting, modelsUrl).href, alt: painting});
    img.addEventListener('click', async () => { chosen.style = await decode(img.src); $('run').disabled = !chosen.content; });
    $('gallery').append(img);
  }
  $('strength').addEventListener('input', () => { $('strength-value').textContent = $('strength').value; });
  $('run').addEventListener('click', async () => {
    say('stylizing…');
    try {
      const out = await stylize(app, chosen.content, chosen.style, Number($('strength').value), $('portrait').checked);
      draw(out.image, out.size);
      $('download').href = $('result').toDataURL('image/png');
      $('download').hidden = false;
      say('');
    } catch (error) {
      say(`stylization failed: ${error.message}`);
    }
  });
}

async function post(body) {
  await fetch('/result', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
}

main();
