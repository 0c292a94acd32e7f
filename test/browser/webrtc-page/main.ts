// The WebRTC page: one rank of a session in a Chromium tab. It passes no RTCPeerConnection or WebSocket,
// so src/dist/webrtc-transport.ts takes the browser's globals; everything else is peer-script.ts, the
// same code the spec's Node peer runs.

import { runPeer, type PeerReport, type PeerRun } from './peer-script.ts';
import type { WebRtcPageApi } from './api.ts';

const log = document.querySelector<HTMLPreElement>('#log')!;
const print = (line: string): void => {
  log.textContent += `${line}\n`;
};

async function webrtcPeer(run: PeerRun): Promise<PeerReport> {
  window.webrtcStage = 'connecting';
  print(`rank ${run.rank} of ${run.size}: ${run.script} in room ${run.room}`);
  try {
    const report = await runPeer(run, {
      onStage: (stage) => {
        window.webrtcStage = stage;
        print(stage);
      },
    });
    window.webrtcStage = 'done';
    for (const t of report.transfers) print(`throughput ${t.from} → ${t.to}: ${t.bytes / 2 ** 20} MiB in ${t.ms.toFixed(0)} ms`);
    print(`done: connect ${report.ms.connect.toFixed(0)} ms, exchange ${report.ms.exchange.toFixed(0)} ms, all-reduce ${report.ms.allReduce.toFixed(0)} ms`);
    return report;
  } catch (error) {
    window.webrtcStage = 'failed';
    print(`failed: ${(error as Error).message}`);
    throw error;
  }
}

/** Gathers candidates for a throwaway connection: shows which addresses this browser offers peers. */
async function webrtcCandidates(): Promise<string[]> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  try {
    pc.createDataChannel('probe');
    const candidates: string[] = [];
    const gathered = new Promise<void>((resolve) => {
      pc.addEventListener('icecandidate', (event) => {
        if (event.candidate?.candidate) candidates.push(event.candidate.candidate);
        else if (!event.candidate) resolve();
      });
      setTimeout(resolve, 5000);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered;
    return candidates;
  } finally {
    pc.close();
  }
}

const api: WebRtcPageApi = { webrtcPeer, webrtcCandidates };
Object.assign(window, api);
window.webrtcStage = 'loaded';
log.textContent = 'ready\n';
