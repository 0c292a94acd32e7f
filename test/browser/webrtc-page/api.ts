// What the WebRTC page exposes on `window`, shared by the page (main.ts) and test/browser/webrtc.spec.ts.

import type { PeerReport, PeerRun, PeerStage } from './peer-script.ts';

export interface WebRtcPageApi {
  /** Runs one peer of a session with the browser's own RTCPeerConnection and WebSocket (peer-script.ts). */
  webrtcPeer(run: PeerRun): Promise<PeerReport>;
  /** The ICE candidates this browser gathers for a data channel without STUN/TURN, as SDP lines. */
  webrtcCandidates(): Promise<string[]>;
}

declare global {
  interface Window extends WebRtcPageApi {
    /** Where the page's peer is: 'loaded' until webrtcPeer is called, then what runPeer reported. */
    webrtcStage: 'loaded' | 'connecting' | PeerStage | 'done' | 'failed';
  }
}
