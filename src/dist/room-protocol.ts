// The rooms protocol: what a training room's members and its server (room-server.ts) say to each other over
// one WebSocket each (JSON text frames). Browser-safe; both sides import these types and limits, and each
// side validates what it receives with the parsers here (the server treats clients as hostile, clients treat
// the server as buggy at worst).
//
// The server is the room's membership authority (as torchft's Lighthouse): it admits members with the room's
// secret, assigns each a member id (1, 2, 3 … in join order, never reused), hears a heartbeat from each, and
// broadcasts the room's state whenever it changes. It relays WebRTC signaling between members and never sees
// a tensor. A *generation* is one membership of a training run: the ordered member list that a set of
// transports is built over (rank = index in `members`). Any change of that list bumps the generation; every
// message a member signals carries the generation it belongs to, so nothing from an older one is used.
//
//   client → server
//     {type:'create', config, size, minMembers?, maxMembers?, name?}   first message: makes a room, joins it
//     {type:'join', room, secret, name?}                               first message: joins an existing room
//     {type:'ping'}                                                    heartbeat, every heartbeatMs (1 s)
//     {type:'signal', to, generation, payload}                         relayed to member `to`
//     {type:'commit', generation, epoch}                               this member finished and committed `epoch` epochs
//     {type:'failed', generation, epoch, culprit?, reason}             this member's generation broke (culprit: a member id)
//     {type:'finish', generation, epoch}                               leader: training is complete
//     {type:'bye'}                                                     orderly leave (the socket closes next)
//   server → client
//     {type:'welcome', room, secret, id, config, limits}               after create/join
//     {type:'room', …RoomState}                                        whenever membership or state changes
//     {type:'proceed', generation, epoch}                              every member committed `epoch`: go on
//     {type:'signal', from, generation, payload}
//     {type:'pong'}                                                    answers ping (lets a client see the server is alive)
// A refused client gets a close frame with one of ROOM_CLOSE's codes and a reason; nothing else in the server
// is disturbed.

/** Close codes (4000–4999 are free for applications); the reason text says what exactly. */
export const ROOM_CLOSE = {
  /** Malformed JSON, unknown type, bad fields, binary frame, oversized message. */
  protocol: 4000,
  /** Wrong secret for the room. */
  secret: 4001,
  /** The room is full, or the server has too many rooms. */
  full: 4002,
  /** No join or create within joinTimeoutMs. */
  timeout: 4003,
  /** No such room (never created, or already ended). */
  noRoom: 4004,
  /** More messages per second than the server allows. */
  rate: 4005,
  /** No heartbeat for heartbeatTimeoutMs: dropped as silent. */
  silent: 4006,
  /** Dropped by the room for misbehaving (accused by the leader, or by half the other members). */
  dropped: 4007,
  /** The room finished training or was closed; nothing more to do. */
  ended: 4008,
  serverClosing: 1001,
} as const;

/** What a room runs; opaque to the server beyond its size (JSON, at most maxConfigBytes). */
export interface RoomConfig {
  /** Built-in dataset name ('cora'). */
  dataset: string;
  /** Built-in model ('gcn' | 'sage' | 'gat'). */
  model: string;
  /** 'sar' today. */
  mode: string;
  epochs: number;
  [key: string]: unknown;
}

export interface RoomMemberInfo {
  id: number;
  /** Free text the member chose (≤ 64 characters), e.g. 'tab' or 'node'. */
  name: string;
}

export type RoomPhase =
  /** Fewer than `size` members have joined; training has not started. */
  | 'waiting'
  /** A generation is training. */
  | 'training'
  /** Training started, then fell below minMembers: it resumes when enough have joined. */
  | 'paused'
  /** The leader said training is complete. */
  | 'finished';

export type RoomEventKind = 'joined' | 'admitted' | 'left' | 'silent' | 'dropped' | 'failed' | 'paused' | 'resumed' | 'started' | 'finished';

/** One line of the room's history: every membership change, with the epochs it cost. */
export interface RoomEvent {
  /** ms since the room was created (server clock). */
  at: number;
  kind: RoomEventKind;
  /** The member concerned, when there is one. */
  id?: number;
  /** The generation that started because of this event (0 when none did). */
  generation: number;
  /** Epochs committed by the whole room when it happened: training resumes from here. */
  committedEpoch: number;
  /** Epochs of work that had started and are redone (0 or 1 in a synchronous run). */
  epochsLost: number;
  reason?: string;
}

export interface RoomState {
  phase: RoomPhase;
  /** 0 before training starts. */
  generation: number;
  /** The generation's members in rank order (rank = index); empty before training starts. */
  members: RoomMemberInfo[];
  /** Members connected but not in the generation: waiting for the start, an epoch boundary, or a pause to end. */
  pending: RoomMemberInfo[];
  /** The generation's leader: its lowest id (the oldest member), or 0 when there is none. */
  leader: number;
  /** Epochs every member of the room has committed. */
  committedEpoch: number;
  size: number;
  minMembers: number;
  maxMembers: number;
  /** The whole history so far (bounded by maxEvents; the oldest are dropped first). */
  events: RoomEvent[];
}

export interface RoomLimits {
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  maxMessageBytes: number;
}

export type ClientMessage =
  | { type: 'create'; config: RoomConfig; size: number; minMembers?: number; maxMembers?: number; name?: string }
  | { type: 'join'; room: string; secret: string; name?: string }
  | { type: 'ping' }
  | { type: 'signal'; to: number; generation: number; payload: unknown }
  | { type: 'commit'; generation: number; epoch: number }
  | { type: 'failed'; generation: number; epoch: number; culprit?: number; reason: string }
  | { type: 'finish'; generation: number; epoch: number }
  | { type: 'bye' };

export type ServerMessage =
  | { type: 'welcome'; room: string; secret: string; id: number; config: RoomConfig; limits: RoomLimits }
  | ({ type: 'room' } & RoomState)
  | { type: 'proceed'; generation: number; epoch: number }
  | { type: 'signal'; from: number; generation: number; payload: unknown }
  | { type: 'pong' };

/** Defaults of the server's options (room-server.ts). */
export const ROOM_DEFAULTS = {
  /** A member pings this often. */
  heartbeatMs: 1000,
  /** No message at all for this long: the member is dropped as silent (the 5 s). */
  heartbeatTimeoutMs: 5000,
  /** Largest frame a client may send (64 KiB: SDP and candidates are a few KiB). */
  maxMessageBytes: 64 * 1024,
  /** Largest room config, in bytes of JSON. */
  maxConfigBytes: 4096,
  /** Messages per second a client may send, averaged over a burst of twice as many. */
  maxMessagesPerSecond: 100,
  maxRooms: 64,
  /** Hard cap on any room's maxMembers. */
  maxMembersPerRoom: 32,
  /** A socket that has neither created nor joined a room within this time is closed. */
  joinTimeoutMs: 10_000,
  /** After a member reports a failed generation, how long the server collects other reports before regrouping. */
  failureGatherMs: 300,
  /** Events kept per room. */
  maxEvents: 200,
  /** An empty room (every member gone) is forgotten after this long; its link stops working. */
  emptyRoomTtlMs: 60_000,
} as const;

export const MAX_NAME_CHARS = 64;
/** Room ids and secrets are URL-safe base64 of 9 and 18 random bytes. */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{6,64}$/;

/** A room link: the page (or anything) with `#room=…&secret=…&server=ws://…` (a fragment never reaches an HTTP server's logs). */
export interface RoomLink {
  server: string;
  room: string;
  secret: string;
}

export function formatRoomLink(base: string, link: RoomLink): string {
  const hash = new URLSearchParams({ room: link.room, secret: link.secret, server: link.server });
  return `${base.replace(/#.*$/, '')}#${hash.toString()}`;
}

/** Reads a room link (whatever comes before the '#' is ignored); throws naming what is missing. */
export function parseRoomLink(text: string): RoomLink {
  const hashAt = text.indexOf('#');
  if (hashAt < 0) throw new Error(`room link ${JSON.stringify(text.slice(0, 200))}: no '#room=…&secret=…&server=…' part`);
  const params = new URLSearchParams(text.slice(hashAt + 1));
  const room = params.get('room') ?? '';
  const secret = params.get('secret') ?? '';
  const server = params.get('server') ?? '';
  if (!ROOM_ID_PATTERN.test(room)) throw new Error('room link: room is missing or malformed');
  if (!secret) throw new Error('room link: secret is missing');
  if (!/^wss?:\/\//.test(server)) throw new Error(`room link: server must be a ws:// or wss:// URL, got ${JSON.stringify(server.slice(0, 100))}`);
  return { server, room, secret };
}

/** Why a close code ended a member's connection, in words for the page and the CLI. */
export function describeRoomClose(code: number | undefined, reason: string | undefined): string {
  const what: Record<number, string> = {
    [ROOM_CLOSE.protocol]: 'protocol error',
    [ROOM_CLOSE.secret]: 'wrong secret',
    [ROOM_CLOSE.full]: 'room is full',
    [ROOM_CLOSE.timeout]: 'no join in time',
    [ROOM_CLOSE.noRoom]: 'no such room',
    [ROOM_CLOSE.rate]: 'too many messages',
    [ROOM_CLOSE.silent]: 'dropped as silent',
    [ROOM_CLOSE.dropped]: 'dropped by the room',
    [ROOM_CLOSE.ended]: 'room ended',
    1001: 'server going away',
    1006: 'connection lost',
    1009: 'message too large',
  };
  const label = code !== undefined ? what[code] : undefined;
  if (reason) return label && !reason.startsWith(label) ? `${label}: ${reason}` : reason;
  return label ?? `closed with code ${code ?? 'unknown'}`;
}

// ---- parsing what the server sends (clients validate too: a confused server must not crash a tab) ----

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

function parseMember(v: unknown): RoomMemberInfo | null {
  if (!isObject(v) || !isCount(v.id) || typeof v.name !== 'string') return null;
  return { id: v.id, name: v.name.slice(0, MAX_NAME_CHARS) };
}

function parseMembers(v: unknown): RoomMemberInfo[] | null {
  if (!Array.isArray(v)) return null;
  const out: RoomMemberInfo[] = [];
  for (const m of v) {
    const parsed = parseMember(m);
    if (!parsed) return null;
    out.push(parsed);
  }
  return out;
}

const PHASES = new Set<RoomPhase>(['waiting', 'training', 'paused', 'finished']);

/** A server frame as a ServerMessage, or null when it is not one (the client then ignores it). */
export function parseServerMessage(text: string): ServerMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(m)) return null;
  switch (m.type) {
    case 'welcome': {
      const { room, secret, id, config, limits } = m;
      if (typeof room !== 'string' || typeof secret !== 'string' || !isCount(id) || !isObject(config) || !isObject(limits)) return null;
      if (!isCount(limits.heartbeatMs) || !isCount(limits.heartbeatTimeoutMs) || !isCount(limits.maxMessageBytes)) return null;
      return { type: 'welcome', room, secret, id, config: config as RoomConfig, limits: limits as unknown as RoomLimits };
    }
    case 'room': {
      const members = parseMembers(m.members);
      const pending = parseMembers(m.pending);
      if (!members || !pending || !PHASES.has(m.phase as RoomPhase)) return null;
      for (const key of ['generation', 'leader', 'committedEpoch', 'size', 'minMembers', 'maxMembers'] as const) if (!isCount(m[key])) return null;
      if (!Array.isArray(m.events)) return null;
      return {
        type: 'room',
        phase: m.phase as RoomPhase,
        generation: m.generation as number,
        members,
        pending,
        leader: m.leader as number,
        committedEpoch: m.committedEpoch as number,
        size: m.size as number,
        minMembers: m.minMembers as number,
        maxMembers: m.maxMembers as number,
        events: (m.events as unknown[]).filter(isObject) as unknown as RoomEvent[],
      };
    }
    case 'proceed':
      return isCount(m.generation) && isCount(m.epoch) ? { type: 'proceed', generation: m.generation, epoch: m.epoch } : null;
    case 'signal':
      return isCount(m.from) && isCount(m.generation) ? { type: 'signal', from: m.from, generation: m.generation, payload: m.payload } : null;
    case 'pong':
      return { type: 'pong' };
    default:
      return null;
  }
}

// ---- parsing what clients send (the server's side: every field is checked before anything is kept) ----

/** Longest `failed` reason kept (longer ones are cut, not refused). */
export const MAX_REASON_CHARS = 500;
/** Longest room id or secret a join may carry (ids and secrets are 12 and 24 characters). */
const MAX_TOKEN_CHARS = 128;
/** Longest dataset, model and mode name in a room config. */
export const MAX_CONFIG_NAME_CHARS = 64;
export const MAX_CONFIG_EPOCHS = 1_000_000;

/** The server's bounds that a create is checked against (ROOM_DEFAULTS' by default). */
export interface ClientMessageLimits {
  maxConfigBytes?: number;
  maxMembersPerRoom?: number;
}

export type ParsedClientMessage = { ok: true; message: ClientMessage } | { ok: false; error: string };

/** A short rendering of a bad value for an error message. */
function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(v) ?? typeof v;
  } catch {
    text = typeof v;
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const isIntIn = (v: unknown, lo: number, hi: number): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/** A room config as a create carries it: null when good, else what is wrong (naming the field). */
export function roomConfigError(config: unknown, maxConfigBytes: number = ROOM_DEFAULTS.maxConfigBytes): string | null {
  if (!isObject(config)) return `config must be an object, got ${shown(config)}`;
  let bytes: number;
  try {
    bytes = new TextEncoder().encode(JSON.stringify(config)).length;
  } catch {
    return 'config is not serializable as JSON';
  }
  if (bytes > maxConfigBytes) return `config is ${bytes} bytes of JSON, the limit is ${maxConfigBytes}`;
  for (const key of ['dataset', 'model', 'mode'] as const) {
    const v = config[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_CONFIG_NAME_CHARS) {
      return `config.${key} must be a string of 1..${MAX_CONFIG_NAME_CHARS} characters, got ${shown(v)}`;
    }
  }
  if (!isIntIn(config.epochs, 1, MAX_CONFIG_EPOCHS)) return `config.epochs must be an integer in 1..${MAX_CONFIG_EPOCHS}, got ${shown(config.epochs)}`;
  return null;
}

const CLIENT_TYPES = new Set(['create', 'join', 'ping', 'signal', 'commit', 'failed', 'finish', 'bye']);

/**
 * A client frame as a ClientMessage, or what is wrong with it (the server closes the socket with that
 * reason). Checks shapes and the bounds a create has to respect; names are cut to MAX_NAME_CHARS and
 * reasons to MAX_REASON_CHARS. Fields the protocol does not know are ignored. What depends on the room
 * (whether `to` is one's own id, whether a generation is current) is the server's to check.
 */
export function parseClientMessage(text: string, limits: ClientMessageLimits = {}): ParsedClientMessage {
  const maxConfigBytes = limits.maxConfigBytes ?? ROOM_DEFAULTS.maxConfigBytes;
  const maxMembers = limits.maxMembersPerRoom ?? ROOM_DEFAULTS.maxMembersPerRoom;
  const bad = (error: string): ParsedClientMessage => ({ ok: false, error });
  const good = (message: ClientMessage): ParsedClientMessage => ({ ok: true, message });
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return bad('malformed message: not JSON');
  }
  if (!isObject(m)) return bad(`malformed message: not a JSON object (${Array.isArray(m) ? 'an array' : m === null ? 'null' : typeof m})`);
  const type = m.type;
  if (typeof type !== 'string' || !CLIENT_TYPES.has(type)) return bad(`unknown message type ${shown(type)}`);
  const count = (key: string): string | null => (isCount(m[key]) ? null : `${type}: ${key} must be a non-negative integer, got ${shown(m[key])}`);
  const name = (): string | undefined | null => {
    if (m.name === undefined) return undefined;
    return typeof m.name === 'string' ? m.name.slice(0, MAX_NAME_CHARS) : null;
  };
  switch (type) {
    case 'create': {
      const configError = roomConfigError(m.config, maxConfigBytes);
      if (configError) return bad(`create: ${configError}`);
      const { size, minMembers, maxMembers: most } = m;
      if (!isIntIn(size, 1, maxMembers)) return bad(`create: size must be an integer in 1..${maxMembers}, got ${shown(size)}`);
      if (minMembers !== undefined && !isIntIn(minMembers, 1, size)) return bad(`create: minMembers must be an integer in 1..${size} (the size), got ${shown(minMembers)}`);
      if (most !== undefined && !isIntIn(most, size, maxMembers)) return bad(`create: maxMembers must be an integer in ${size}..${maxMembers}, got ${shown(most)}`);
      const n = name();
      if (n === null) return bad(`create: name must be a string, got ${shown(m.name)}`);
      return good({
        type,
        config: m.config as RoomConfig,
        size,
        ...(minMembers !== undefined ? { minMembers: minMembers as number } : {}),
        ...(most !== undefined ? { maxMembers: most as number } : {}),
        ...(n !== undefined ? { name: n } : {}),
      });
    }
    case 'join': {
      const { room, secret } = m;
      if (typeof room !== 'string' || room.length === 0 || room.length > MAX_TOKEN_CHARS) return bad(`join: room must be a string of 1..${MAX_TOKEN_CHARS} characters, got ${shown(room)}`);
      if (typeof secret !== 'string' || secret.length > MAX_TOKEN_CHARS) return bad(`join: secret must be a string of at most ${MAX_TOKEN_CHARS} characters, got ${shown(secret)}`);
      const n = name();
      if (n === null) return bad(`join: name must be a string, got ${shown(m.name)}`);
      return good({ type, room, secret, ...(n !== undefined ? { name: n } : {}) });
    }
    case 'ping':
    case 'bye':
      return good({ type });
    case 'signal': {
      if (!Number.isInteger(m.to)) return bad(`signal: to must be a member id (an integer), got ${shown(m.to)}`);
      const error = count('generation');
      if (error) return bad(error);
      return good({ type, to: m.to as number, generation: m.generation as number, payload: m.payload ?? null });
    }
    case 'commit':
    case 'finish': {
      const error = count('generation') ?? count('epoch');
      if (error) return bad(error);
      return good({ type, generation: m.generation as number, epoch: m.epoch as number });
    }
    case 'failed': {
      const error = count('generation') ?? count('epoch');
      if (error) return bad(error);
      if (m.culprit !== undefined && !isCount(m.culprit)) return bad(`failed: culprit must be a member id (a non-negative integer), got ${shown(m.culprit)}`);
      if (typeof m.reason !== 'string') return bad(`failed: reason must be a string, got ${shown(m.reason)}`);
      return good({
        type,
        generation: m.generation as number,
        epoch: m.epoch as number,
        ...(m.culprit !== undefined ? { culprit: m.culprit as number } : {}),
        reason: m.reason.slice(0, MAX_REASON_CHARS),
      });
    }
    default:
      return bad(`unknown message type ${shown(type)}`);
  }
}
