// The demo's rooms: tabs (and `webgnn join` processes) linked by WebRTC train one model together. One tab
// creates a room and shares its link; every tab that opens the link joins (at once when the page loads with
// a #room=… fragment); when the chosen number has joined, training starts, and the member code
// (src/engines/rooms) partitions the graph, links the members and keeps going through joins and losses.
// A room member runs on this page's main thread, not in the trainer worker: Chromium offers
// RTCPeerConnection to pages only. The room server is the page's own origin at /rooms (vite.config.ts).
//
// window.webgnnRoom is a read-only view of what this tab knows (its id, the room's state, the history, its
// part, the summary, the error, the status line, the link), replaced as events arrive: for tools and tests.

import type uPlot from 'uplot';
import type { RoomConfig, RoomEvent, RoomMemberInfo, RoomState } from '../src/dist/room-protocol.ts';
import { formatRoomLink, parseRoomLink } from '../src/dist/room-protocol.ts';
import type { RoomEpoch, RoomPart, RoomSummary } from '../src/engines/rooms/room-member.ts';
import type { RoomPeer } from '../src/engines/rooms/room-peer.ts';
import type { RoomTraining, RoomTrainingSettings } from '../src/engines/rooms/room-training.ts';
import { webgpuUnavailableReason } from '../src/gpu/browser-provider.ts';
import { loadNodeDataset } from '../src/graph/node-dataset.ts';
import { loadEventStream } from '../src/graph/event-stream.ts';
import { firstEvents } from '../src/graph/event-stream-prefix.ts';
import { collegeMsgUrls } from './collegemsg.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../src/nn/checkpoint.ts';
import { urlSource } from '../src/browser/dataset-files.ts';
import { loadRoomCheckpoint, saveRoomCheckpoint, type SavedRoomCheckpoint } from '../src/browser/idb-store.ts';
import { createBrowserRoom, joinBrowserRoom } from '../src/browser/room-browser.ts';
import { LiveChart } from './charts.ts';
import { coraUrls } from './cora.ts';
import { $, errorText, input, mib, select, setStatus } from './dom.ts';

type Phase = 'idle' | 'creating' | 'joining' | 'in-room' | 'finished' | 'failed' | 'left';

/** This member's own traffic: the last epoch's and the sum over every epoch it trained in. */
export interface RoomTraffic {
  sentLast: number;
  receivedLast: number;
  sentTotal: number;
  receivedTotal: number;
  /** Epochs counted in the totals. */
  epochs: number;
}

export interface RoomView {
  phase: Phase;
  /** This member's id in the room (1, 2, … in join order), once in. */
  id: number | null;
  /** The link others open to join. */
  link: string | null;
  config: RoomConfig | null;
  /** The room's last broadcast state: phase, members in rank order, pending, leader, events. */
  state: RoomState | null;
  /** Every epoch the room committed, as this member holds it. */
  history: RoomEpoch[];
  /** This member's share of the graph in the current generation. */
  part: RoomPart | null;
  traffic: RoomTraffic;
  /** GPU bytes of this tab's device now and at most, after the latest epoch. */
  memory: { bytes: number; peak: number } | null;
  /** The latest checkpoint saved in IndexedDB. */
  checkpoint: { epoch: number; bytes: number; savedAt: number } | null;
  summary: RoomSummary | null;
  /** Why joining or training failed, in words. */
  error: string | null;
  status: string;
}

declare global {
  interface Window {
    webgnnRoom: Readonly<RoomView>;
  }
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const byteSize = (bytes: number) => (bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : mib(bytes));
const count = (n: number) => n.toLocaleString('en');

const emptyTraffic = (): RoomTraffic => ({ sentLast: 0, receivedLast: 0, sentTotal: 0, receivedTotal: 0, epochs: 0 });

let view: RoomView = {
  phase: 'idle',
  id: null,
  link: null,
  config: null,
  state: null,
  history: [],
  part: null,
  traffic: emptyTraffic(),
  memory: null,
  checkpoint: null,
  summary: null,
  error: null,
  status: '',
};

let peer: RoomPeer | null = null;
let saved: SavedRoomCheckpoint | undefined;
let charts: RoomCharts;

/** Publishes a new read-only view (the arrays copied, so a reader never sees them change under it). */
function publish(change: Partial<RoomView>): void {
  view = { ...view, ...change };
  window.webgnnRoom = Object.freeze({ ...view, history: view.history.slice() });
  updateControls();
}

function status(text: string, kind: 'ok' | 'error' | '' = ''): void {
  setStatus('room-status', text, kind);
  publish({ status: text });
}

function fail(text: string): void {
  setStatus('room-status', text, 'error');
  publish({ status: text, error: text });
}

const busy = () => view.phase === 'creating' || view.phase === 'joining' || view.phase === 'in-room';

function updateControls(): void {
  const noGpu = document.body.classList.contains('no-webgpu');
  for (const id of ['room-dataset', 'room-model', 'room-mode', 'room-size', 'room-min-members', 'room-epochs', 'room-seed', 'room-checkpoint-every', 'room-events', 'room-resume', 'room-join-link']) {
    $<HTMLInputElement | HTMLSelectElement>(id).disabled = noGpu || busy();
  }
  input('room-create').disabled = noGpu || busy();
  input('room-join').disabled = noGpu || busy();
  input('room-leave').disabled = !peer || view.phase !== 'in-room';
}

// ---------------------------------------------------------------- charts with membership markers

interface Marker {
  /** Between the committed epoch and the next: where training went on from. */
  x: number;
  label: string;
  color: string;
}

const MARKER_COLORS: Partial<Record<RoomEvent['kind'], string>> = {
  left: '#b91c1c',
  silent: '#b91c1c',
  dropped: '#b91c1c',
  failed: '#b91c1c',
  paused: '#a16207',
  joined: '#15803d',
  admitted: '#15803d',
  resumed: '#15803d',
};

/** Draws a dashed vertical line and a label for each marker over the plot. */
function markerPlugin(markers: () => readonly Marker[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u: uPlot) => {
          const { ctx } = u;
          const { left, top, width, height } = u.bbox;
          const px = devicePixelRatio || 1;
          ctx.save();
          ctx.font = `${11 * px}px system-ui, sans-serif`;
          for (const [i, m] of markers().entries()) {
            const x = u.valToPos(m.x, 'x', true);
            if (!Number.isFinite(x) || x < left || x > left + width) continue;
            ctx.strokeStyle = m.color;
            ctx.fillStyle = m.color;
            ctx.lineWidth = 1.5 * px;
            ctx.setLineDash([4 * px, 3 * px]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.fillText(m.label, x + 3 * px, top + (12 + 12 * (i % 3)) * px);
          }
          ctx.restore();
        },
      ],
    },
  };
}

const BLUE = '#2563eb';
const ORANGE = '#ea580c';
const GREEN = '#15803d';

/** The room's loss and accuracy per committed epoch, with its membership changes marked. */
class RoomCharts {
  private readonly loss: LiveChart;
  private readonly accuracy: LiveChart;
  private markers: Marker[] = [];

  constructor(lossEl: HTMLElement, accuracyEl: HTMLElement) {
    const plugins = [markerPlugin(() => this.markers)];
    this.loss = new LiveChart(lossEl, [
      { label: 'train loss', stroke: BLUE },
      { label: 'validation loss', stroke: ORANGE },
    ], { x: 'epoch', wholeX: true, format: (v) => v.toFixed(4), plugins });
    this.accuracy = new LiveChart(accuracyEl, [
      { label: 'train', stroke: BLUE },
      { label: 'validation', stroke: ORANGE },
      { label: 'test', stroke: GREEN },
    ], { x: 'epoch', wholeX: true, yRange: [0, 1], format: pct, tick: (v) => `${Math.round(v * 100)}%`, plugins });
  }

  reset(history: readonly RoomEpoch[]): void {
    this.loss.clear();
    this.accuracy.clear();
    for (const m of history) this.append(m);
    this.redraw();
  }

  add(m: RoomEpoch): void {
    this.append(m);
    this.redraw();
  }

  /** Membership changes once training had started (those before it are the room filling up). */
  setEvents(events: readonly RoomEvent[]): void {
    const next = events
      .filter((e) => MARKER_COLORS[e.kind] && e.committedEpoch > 0)
      .map((e) => ({ x: e.committedEpoch + 0.5, label: `${e.kind}${e.id !== undefined ? ` ${e.id}` : ''}`, color: MARKER_COLORS[e.kind]! }));
    if (next.length === this.markers.length && next.every((m, i) => m.x === this.markers[i].x && m.label === this.markers[i].label)) return;
    this.markers = next;
    $('room-charts').dataset.markers = String(next.length);
    this.redraw();
  }

  private append(m: RoomEpoch): void {
    this.loss.push(m.epoch, m.loss, m.valLoss);
    // A temporal room's figure is link prediction's AP (validation, test), drawn where accuracy would be.
    if (m.temporal) this.accuracy.push(m.epoch, NaN, m.temporal.valAp, m.temporal.testAp);
    else this.accuracy.push(m.epoch, m.trainAcc, m.valAcc, m.testAcc);
  }

  private redraw(): void {
    this.loss.redraw();
    this.accuracy.redraw();
  }
}

// ---------------------------------------------------------------- what the room tells this tab

function describeEvent(e: RoomEvent): string {
  const who = e.id !== undefined ? ` member ${e.id}` : '';
  const lost = e.epochsLost ? `, ${e.epochsLost} epoch${e.epochsLost === 1 ? '' : 's'} redone` : '';
  return `${(e.at / 1000).toFixed(1)} s · ${e.kind}${who} at epoch ${e.committedEpoch}${lost}${e.reason ? ` (${e.reason})` : ''}`;
}

function memberItem(m: RoomMemberInfo, detail: string[]): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.id = String(m.id);
  li.textContent = [`member ${m.id}`, m.name ? `(${m.name})` : '', ...detail].filter(Boolean).join(' ');
  if (m.id === view.id) li.classList.add('self');
  return li;
}

function showState(state: RoomState): void {
  publish({ state });
  const self = view.id;
  $('room-members').replaceChildren(
    ...state.members.map((m, rank) => {
      const li = memberItem(m, [`· rank ${rank}`, m.id === state.leader ? '· leader' : '', m.id === self ? '· you' : '']);
      li.dataset.rank = String(rank);
      if (m.id === state.leader) li.classList.add('leader');
      return li;
    }),
  );
  $('room-pending').replaceChildren(...state.pending.map((m) => memberItem(m, [m.id === self ? '· you' : ''])));
  $('room-pending-box').hidden = state.pending.length === 0;
  $('room-phase').textContent =
    `${state.phase} · generation ${state.generation} · ${state.committedEpoch} epoch${state.committedEpoch === 1 ? '' : 's'} committed · ` +
    `size ${state.size}, at least ${state.minMembers}, at most ${state.maxMembers}`;
  $('room-events').replaceChildren(
    ...state.events.map((e) => {
      const li = document.createElement('li');
      li.dataset.kind = e.kind;
      if (e.id !== undefined) li.dataset.id = String(e.id);
      li.dataset.epoch = String(e.committedEpoch);
      li.textContent = describeEvent(e);
      return li;
    }),
  );
  charts.setEvents(state.events);
}

function showPart(part: RoomPart): void {
  publish({ part, history: peer?.member.history ?? view.history });
  $('room-part').textContent = part.memoryGroup !== undefined
    ? `memory copy ${part.memoryGroup + 1} of ${part.size} · all ${count(part.edges)} events over ${count(part.nodes)} nodes`
    : part.blocks
    ? `stage ${part.rank + 1} of ${part.size}: blocks ${part.blocks[0]}–${part.blocks[1] - 1} · all ${count(part.nodes)} nodes, in chunks`
    : `${count(part.nodes)} of ${count(part.totalNodes)} nodes · ${count(part.edges)} edges · halo ${count(part.halo)}`;
  $('room-part').title = `rank ${part.rank} of ${part.size} in generation ${part.generation}; set up (links, partition, commit) in ${part.setupMs.toFixed(0)} ms`;
  $('room-rank').textContent = `member ${view.id} · rank ${part.rank} of ${part.size}`;
  // A member that joined late (or after a regroup) holds the room's history from the commit.
  charts.reset(view.history);
}

function showEpoch(m: RoomEpoch): void {
  const mine = m.members[m.rank] === view.id;
  const sent = mine ? (m.bytesSent?.[0] ?? 0) : 0;
  const received = mine ? (m.bytesReceived[0] ?? 0) : 0;
  const t = view.traffic;
  const traffic = { sentLast: sent, receivedLast: received, sentTotal: t.sentTotal + sent, receivedTotal: t.receivedTotal + received, epochs: t.epochs + 1 };
  const memory = peer?.memory() ?? null;
  // The member's history is the room's: every committed epoch, this one last.
  publish({ history: peer ? peer.member.history : [...view.history, m], traffic, memory });
  charts.add(m);
  const epochs = view.config ? Number(view.config.epochs) : m.epoch;
  $('room-epoch').textContent = `${m.epoch} / ${epochs}`;
  $('room-loss').textContent = m.loss.toFixed(4);
  $('room-acc-label').textContent = m.temporal ? 'Val. / test AP' : 'Val. / test acc.';
  $('room-acc-caption').textContent = m.temporal ? 'Average precision (link prediction)' : 'Accuracy';
  $('room-acc').textContent = m.temporal ? `${m.temporal.valAp.toFixed(3)} / ${m.temporal.testAp.toFixed(3)}` : `${pct(m.valAcc)} / ${pct(m.testAcc)}`;
  $('room-ms').textContent = `${m.epochMs.toFixed(0)} ms`;
  $('room-sent').textContent = `${byteSize(sent)} · ${byteSize(traffic.sentTotal)}`;
  $('room-received').textContent = `${byteSize(received)} · ${byteSize(traffic.receivedTotal)}`;
  if (memory) {
    $('room-memory').textContent = mib(memory.bytes);
    $('room-memory').title = `peak ${mib(memory.peak)}: every GPU buffer this tab's device holds, measured by its buffer pool`;
  }
  $('room-progress-bar').style.width = `${Math.min(100, (100 * m.epoch) / Math.max(1, epochs))}%`;
}

async function saveCheckpoint(epoch: number, data: Parameters<typeof encodeCheckpoint>[0]): Promise<void> {
  if (!peer || !view.config || view.id === null) return;
  const bytes = encodeCheckpoint(data);
  try {
    const record: SavedRoomCheckpoint = { checkpoint: bytes, epoch, room: peer.link.room, config: view.config, member: view.id, savedAt: Date.now() };
    await saveRoomCheckpoint(record);
    saved = record;
    publish({ checkpoint: { epoch, bytes: bytes.byteLength, savedAt: record.savedAt } });
    setStatus('room-checkpoint-status', `Checkpoint of epoch ${epoch} saved in this browser (${(bytes.byteLength / 1024).toFixed(0)} KiB, ${new Date(record.savedAt).toLocaleTimeString()}).`, 'ok');
    $('room-checkpoint-status').dataset.epoch = String(epoch);
  } catch (error) {
    setStatus('room-checkpoint-status', `Could not save the checkpoint of epoch ${epoch}: ${errorText(error)}`, 'error');
  }
}

function showSummary(summary: RoomSummary): void {
  $('room-summary').hidden = false;
  const temporal = summary.final?.temporal;
  const acc = temporal ? temporal.testAp : summary.final?.testAcc;
  $('room-final-label').textContent = temporal ? 'Final test AP' : 'Final test accuracy';
  $('room-final-acc').textContent = acc === undefined ? '–' : temporal ? acc.toFixed(4) : pct(acc);
  if (acc !== undefined) $('room-final-acc').dataset.value = String(acc);
  const validation = temporal ? `validation AP ${temporal.valAp.toFixed(4)} after ${temporal.passes} passes` : `validation accuracy ${pct(summary.final?.valAcc ?? NaN)}`;
  $('room-summary-detail').textContent =
    `${summary.epochs} epochs over ${summary.generations} generation${summary.generations === 1 ? '' : 's'} in this tab` +
    (summary.final ? `; final loss ${summary.final.loss.toFixed(4)}, ${validation}.` : '.');
  const body = $<HTMLTableElement>('room-summary-events').tBodies[0];
  body.replaceChildren(
    ...summary.events.map((e) => {
      const row = document.createElement('tr');
      row.dataset.kind = e.kind;
      if (e.id !== undefined) row.dataset.id = String(e.id);
      for (const text of [`${(e.at / 1000).toFixed(1)} s`, e.kind, e.id !== undefined ? String(e.id) : '–', String(e.committedEpoch), String(e.epochsLost), e.reason ?? '']) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

// ---------------------------------------------------------------- creating, joining, training

/** 'Could not join the room: …', without saying it twice when the error's own words begin so. */
function couldNot(what: string, error: unknown): string {
  const text = errorText(error);
  return /^could not /i.test(text) ? text[0].toUpperCase() + text.slice(1) : `Could not ${what}: ${text}`;
}

function serverUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rooms`;
}

/** This page without its fragment: what a room link opens. */
const pageBase = () => `${location.origin}${location.pathname}${location.search}`;

/** Forgets the previous room's figures (a tab may create or join another after one ends). */
function resetView(phase: Phase): void {
  peer = null;
  publish({ phase, id: null, link: null, config: null, state: null, history: [], part: null, traffic: emptyTraffic(), memory: null, checkpoint: null, summary: null, error: null });
  charts.reset([]);
  charts.setEvents([]);
  $('room-summary').hidden = true;
  $('room-link-box').hidden = true;
  for (const id of ['room-members', 'room-pending', 'room-events']) $(id).replaceChildren();
  for (const id of ['room-rank', 'room-part', 'room-epoch', 'room-loss', 'room-acc', 'room-ms', 'room-sent', 'room-received', 'room-memory']) $(id).textContent = '–';
  $('room-phase').textContent = '';
  $('room-progress-bar').style.width = '0';
  setStatus('room-checkpoint-status', '');
}

function readCreateForm(): { training: RoomTrainingSettings; size: number; minMembers: number; resume: SavedRoomCheckpoint | null; temporal: boolean; events: number } {
  const int = (id: string, what: string, lo: number, hi: number) => {
    const text = input(id).value.trim();
    const v = Number(text);
    if (text === '' || !Number.isInteger(v) || v < lo || v > hi) throw new Error(`${what} must be an integer from ${lo} to ${hi}, got '${input(id).value}'`);
    return v;
  };
  const dataset = select('room-dataset').value;
  const mode = select('room-mode').value;
  if (mode !== 'sar' && mode !== 'pipe' && mode !== 'temporal') throw new Error(`rooms train in mode 'sar' (full-batch SAR), 'pipe' (a GNNPipe pipeline) or 'temporal' (DistTGL), not '${mode}'`);
  const model = select('room-model').value as RoomTraining['model'];
  if (mode === 'temporal' && (dataset !== 'collegemsg' || model !== 'tgn')) throw new Error('a DistTGL room trains TGN on the embedded CollegeMsg event stream: choose that dataset and model');
  if (mode !== 'temporal' && (dataset !== 'cora' || model === 'tgn')) throw new Error('SAR and pipeline rooms train a node classifier on the embedded Cora: choose that dataset and GCN, GraphSAGE, GAT, GCNII or ResGCN+ (TGN trains in mode DistTGL)');
  if (mode === 'pipe' && model === 'gat') throw new Error('a pipeline room does not train GAT (attention needs the softmax terms of neighbours in other chunks): choose GCN, GraphSAGE, GCNII or ResGCN+, or mode SAR');
  const size = int('room-size', 'Workers', 1, 32);
  const minMembers = int('room-min-members', 'Min. members', 1, size);
  const epochs = int('room-epochs', 'Epochs', 1, 100_000);
  const resume = input('room-resume').checked && saved ? saved : null;
  if (resume) {
    if (epochs <= resume.epoch) throw new Error(`Epochs must be more than the saved checkpoint's ${resume.epoch} to continue it`);
    // The weights fix the model: everything but the epoch count comes from the room that saved them.
    const { dataset: _dataset, ...training } = resume.config;
    if (mode === 'temporal') throw new Error('a DistTGL room starts afresh: its saved state holds the weights, not the memory copies (untick the checkpoint to continue)');
    return { training: { ...(training as RoomTrainingSettings), model: resume.config.model as RoomTraining['model'], epochs }, size, minMembers, resume, temporal: false, events: 0 };
  }
  return {
    training: {
      model,
      mode,
      epochs,
      seed: int('room-seed', 'Seed', 0, 2 ** 31 - 1),
      checkpointEvery: int('room-checkpoint-every', 'Checkpoint every', 0, 100_000),
    },
    size,
    minMembers,
    resume: null,
    temporal: mode === 'temporal',
    // A DistTGL room's leader cuts the stream; every member receives the cut one (0: the whole stream).
    events: mode === 'temporal' ? int('room-events', 'Events', 0, 100_000_000) : 0,
  };
}

async function createRoom(): Promise<void> {
  if (busy()) return;
  let form: ReturnType<typeof readCreateForm>;
  try {
    form = readCreateForm();
  } catch (error) {
    fail(errorText(error));
    return;
  }
  resetView('creating');
  status(`Loading ${form.temporal ? 'CollegeMsg' : 'Cora'} and opening a GPU device…`);
  let created: RoomPeer;
  try {
    const stream = form.temporal ? await loadEventStream(urlSource('collegemsg', collegeMsgUrls())) : null;
    const dataset = stream ? (form.events > 0 ? firstEvents(stream, form.events) : stream) : await loadNodeDataset(urlSource('cora', coraUrls()));
    const resume = form.resume ? decodeCheckpoint(form.resume.checkpoint, 'the room checkpoint saved in this browser') : undefined;
    status('Creating the room…');
    created = await createBrowserRoom({ server: serverUrl(), dataset, training: form.training, size: form.size, minMembers: form.minMembers, name: 'tab', resume });
  } catch (error) {
    publish({ phase: 'failed' });
    fail(couldNot('create the room', error));
    return;
  }
  const link = formatRoomLink(pageBase(), created.link);
  input('room-link').value = link;
  $('room-link-box').hidden = false;
  await train(created, link);
}

async function joinRoom(text: string): Promise<void> {
  if (busy()) return;
  resetView('joining');
  let link: ReturnType<typeof parseRoomLink>;
  try {
    link = parseRoomLink(text);
  } catch (error) {
    publish({ phase: 'failed' });
    fail(`Not a room link: ${errorText(error)}`);
    return;
  }
  status(`Joining room ${link.room}…`);
  let joined: RoomPeer;
  try {
    joined = await joinBrowserRoom({ link, name: 'tab' });
  } catch (error) {
    // Wrong secret, full room, no such room: RoomClosedError says which, with the server's reason.
    publish({ phase: 'failed' });
    fail(couldNot('join the room', error));
    return;
  }
  await train(joined, formatRoomLink(pageBase(), joined.link));
}

/** Trains in the room until it finishes, the run cannot go on, or this tab leaves. */
async function train(member: RoomPeer, link: string): Promise<void> {
  peer = member;
  publish({ phase: 'in-room', id: member.client.id, link, config: member.client.config });
  $('room-rank').textContent = `member ${member.client.id}`;
  const offs = [
    member.member.on('state', showState),
    member.member.on('status', (line) => status(line)),
    member.member.on('part', showPart),
    member.member.on('epoch', showEpoch),
    member.member.on('checkpoint', ({ epoch, data }) => void saveCheckpoint(epoch, data)),
  ];
  if (member.client.state) showState(member.client.state);
  let leaving = false;
  const leave = () => {
    leaving = true;
    status('Leaving the room…');
    void member.leave();
  };
  $('room-leave').onclick = leave;
  try {
    const summary = await member.run();
    publish({ phase: 'finished', summary, history: summary.history, state: member.client.state ?? view.state, memory: member.memory() });
    showSummary(summary);
    const acc = summary.final ? (summary.final.temporal ? `, final test AP ${summary.final.temporal.testAp.toFixed(4)}` : `, final test accuracy ${pct(summary.final.testAcc)}`) : '';
    status(`Finished: the room trained ${summary.epochs} epochs${acc}.`, 'ok');
  } catch (error) {
    if (leaving) {
      publish({ phase: 'left' });
      status('You left the room; the others go on without this tab.');
    } else {
      publish({ phase: 'failed' });
      fail(`Training in the room stopped: ${errorText(error)}`);
    }
  } finally {
    for (const off of offs) off();
    $('room-leave').onclick = null;
    await member.leave().catch(() => {});
    member.gpu.destroy();
    updateControls();
  }
}

async function copyLink(): Promise<void> {
  const el = input('room-link');
  try {
    await navigator.clipboard.writeText(el.value);
    setStatus('room-copy-status', 'Link copied.', 'ok');
  } catch {
    el.select();
    setStatus('room-copy-status', 'Selected: press Ctrl+C (or ⌘C) to copy.');
  }
}

function showSaved(record: SavedRoomCheckpoint | undefined): void {
  saved = record;
  $('room-resume-choice').hidden = !record;
  if (!record) return;
  $('room-resume-text').textContent =
    `Continue from the room checkpoint saved in this browser: ${String(record.config.model).toUpperCase()} on ${record.config.dataset}, ` +
    `epoch ${record.epoch} (${new Date(record.savedAt).toLocaleString()})`;
}

/** A #room=… fragment in the address: join that room (on load, or when a link is pasted into the address bar). */
function joinFromAddress(): void {
  if (!/[#&]room=/.test(location.hash)) return;
  input('room-join-link').value = location.href;
  void joinRoom(location.href);
}

function start(): void {
  charts = new RoomCharts($('room-loss-chart'), $('room-acc-chart'));
  publish({});
  $('room-create').addEventListener('click', () => void createRoom());
  $('room-join').addEventListener('click', () => void joinRoom(input('room-join-link').value));
  $('room-copy').addEventListener('click', () => void copyLink());
  const reason = webgpuUnavailableReason();
  if (reason) {
    document.body.classList.add('no-webgpu');
    fail(`Rooms need WebGPU, which this browser does not offer: ${reason}`);
    return;
  }
  status('Create a room, or open a room link to join one.');
  void loadRoomCheckpoint().then(showSaved, () => showSaved(undefined));
  window.addEventListener('hashchange', joinFromAddress);
  joinFromAddress();
}

start();
