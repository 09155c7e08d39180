// Runs a TFJS graph model (model.json + weight shards) on the TensorFlow.js CPU backend, for
// tfstyle's parity tests: `node run_graph.mjs MODEL_JSON INPUT.raw N,H,W,C OUTPUT.raw [NODE]`.
// The input is raw little-endian float32 with the given shape (batch first); the output is
// raw float32 of graph node NODE (default: the model's first output), its shape printed as
// JSON on stdout.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';

const [modelJson, inputPath, shapeText, outputPath, node] = process.argv.slice(2);
if (!outputPath) {
  console.error('usage: node run_graph.mjs MODEL_JSON INPUT SHAPE OUTPUT [NODE]');
  process.exit(2);
}
await tf.setBackend('cpu');
const model = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
const folder = path.dirname(modelJson);
const weightSpecs = model.weightsManifest.flatMap((group) => group.weights);
const shards = model.weightsManifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(folder, p))));
const weightData = Buffer.concat(shards);
const handler = {
  load: async () => ({
    modelTopology: model.modelTopology,
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy,
    userDefinedMetadata: model.userDefinedMetadata,
    weightSpecs,
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  }),
};
const graph = await loadGraphModel(handler);
const shape = shapeText.split(',').map(Number);
const raw = fs.readFileSync(inputPath);
const input = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), shape, 'float32');
let output = node ? graph.execute(input, node) : graph.execute(input);
if (Array.isArray(output)) output = output[0];
const values = await output.data();
fs.writeFileSync(outputPath, Buffer.from(new Float32Array(values).buffer));
console.log(JSON.stringify({ shape: output.shape, backend: tf.getBackend(), tfjs: tf.version_core }));
