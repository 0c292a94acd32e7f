// Writes a 'published' device profile from a specification's figures and stated assumptions, in the
// form the shipped ones have: every kernel takes dispatch_s + work / R, sampled at sizes from tiny to
// large, with R an assumed efficiency of the peak figure. Run: node scripts/published-profile.mjs SPEC.json OUT.json
// SPEC: { name, reference, memory_bytes, bandwidth_bytes_per_s, flops_per_s, memory_efficiency,
//         matmul_efficiency, memory_update_flops_per_byte, dispatch_s, max_buffer_bytes,
//         readback_s, shared_processor?, max_storage_binding_bytes, links: { name: { bandwidth_bytes_per_s, latency_s } } }
import { readFileSync, writeFileSync } from 'node:fs';

const [specFile, out] = process.argv.slice(2);
if (!specFile || !out) {
  console.error('usage: node scripts/published-profile.mjs SPEC.json OUT.json');
  process.exit(2);
}
const s = JSON.parse(readFileSync(specFile, 'utf8'));
const curve = (rate, works) => works.map((work) => ({ work, per_s: Number((work / (s.dispatch_s + work / rate)).toPrecision(6)) }));
const bytes = [2 ** 12, 2 ** 16, 2 ** 20, 2 ** 24, 2 ** 28, 2 ** 32];
const flops = [2 ** 20, 2 ** 24, 2 ** 28, 2 ** 32, 2 ** 36, 2 ** 40];
const memoryRate = s.bandwidth_bytes_per_s * s.memory_efficiency;
const matmulRate = s.flops_per_s * s.matmul_efficiency;
const profile = {
  webgnn_profile: 1,
  name: s.name,
  source: 'published',
  reference: s.reference,
  device: {
    memory_bytes: s.memory_bytes,
    max_buffer_bytes: s.max_buffer_bytes,
    max_storage_binding_bytes: s.max_storage_binding_bytes,
    dispatch_s: s.dispatch_s,
    readback_s: s.readback_s,
    shared_processor: s.shared_processor ?? false,
    rates: {
      spmm: curve(memoryRate, bytes),
      matmul: curve(matmulRate, flops),
      attention: curve(memoryRate, bytes),
      memory_update: curve(Math.min(memoryRate, matmulRate / s.memory_update_flops_per_byte), bytes),
      elementwise: curve(memoryRate, bytes),
    },
  },
  links: s.links,
};
writeFileSync(out, JSON.stringify(profile, null, 2) + '\n');
console.log(`wrote ${out}`);
