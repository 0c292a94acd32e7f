// Plan before having the machines: ogbn-papers100M with a 3-layer GraphSAGE over 32 to 128 datacenter
// GPUs, from a profile shipped with the package. Prints one line per worker count.
// Run: node examples/plan-cluster.mjs
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { formatBytes, GRAPH_PRESETS, parseDeviceProfileText, planGraph } from 'webgnn';

const file = createRequire(import.meta.url).resolve('webgnn/profiles/nvidia-a100-40gb.json');
const device = parseDeviceProfileText(readFileSync(file, 'utf8'), file);
const { rows } = planGraph({
  graph: GRAPH_PRESETS['ogbn-papers100M'],
  model: { kind: 'sage', layers: 3, hidden: 256, heads: 1, dropout: 0.5 },
  mode: 'sar',
  workers: [32, 64, 128],
  cluster: { device, link: device.links['ethernet-100g'], linkName: 'ethernet-100g' },
});
for (const r of rows) {
  console.log(`${r.workers} GPUs: ${formatBytes(r.peak_bytes_per_worker)} per GPU${r.fits ? '' : ' (does not fit)'}, ${formatBytes(r.bytes_sent_per_worker_per_epoch)} sent per GPU per epoch, ${r.epoch_s.toFixed(2)} s per epoch`);
}
