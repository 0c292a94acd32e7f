// `webgnn serve`: a room server by itself (room-server.ts) at ws://HOST:PORT/rooms, the same path the demo's
// Vite server uses, so one link format works with both. It runs until SIGINT or SIGTERM, then closes every
// member's socket (1001) and exits 0.

import { startRoomServer } from '../dist/room-server.ts';

export interface ServeFlags {
  host: string;
  port: number;
  heartbeatTimeout: number;
  maxMembers?: number;
  maxMessageBytes?: number;
  rate?: number;
  maxRooms?: number;
  /** Print a line per room event (created, joined, left, …) to stderr. */
  quiet?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Serves rooms until the process is told to stop. */
export async function serveCommand(flags: ServeFlags): Promise<void> {
  const server = await startRoomServer({
    host: flags.host,
    port: flags.port,
    path: '/rooms',
    heartbeatTimeoutMs: flags.heartbeatTimeout,
    maxMembersPerRoom: flags.maxMembers,
    maxMessageBytes: flags.maxMessageBytes,
    maxMessagesPerSecond: flags.rate,
    maxRooms: flags.maxRooms,
    log: flags.quiet ? undefined : (line) => process.stderr.write(`[rooms] ${line}\n`),
  });
  if (!LOOPBACK.has(flags.host)) process.stderr.write(`warning: listening on ${flags.host}: anyone who can reach it and has a room link can join\n`);
  process.stdout.write(`rooms on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stderr.write(`[rooms] ${signal}: closing\n`);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
}
