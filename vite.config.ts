// Vite serves and builds the browser side: the demo app (demo/index.html) and the test pages Playwright
// drives (test/browser/kernel-page/index.html; test/browser/webrtc-page/index.html for WebRTC peers).
// The root is the repository, so the pages import src/ and shaders/ with the same relative paths as Node; shaders load as `./x.wgsl?raw`, which
// Vite supports natively (Node does it through scripts/wgsl-hooks.mjs).
//
//   npm run demo    dev server on http://127.0.0.1:5173/ (redirects to the demo at /demo/), with a room
//                   server at ws://127.0.0.1:5173/rooms (also in `vite preview`): the demo's rooms need no other process
//   npm run build:demo   static site in site/ (site/index.html leads to site/demo/); `npm run build` is the
//                        library (dist/, scripts/build-lib.mjs)

import type { Server as HttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { attachRoomServer } from './src/dist/room-server.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const pages = {
  demo: 'demo/index.html',
  kernels: 'test/browser/kernel-page/index.html',
  webrtc: 'test/browser/webrtc-page/index.html',
};

/** `/` leads to the demo, in the dev server, in `vite preview` and in the built site. */
function demoAtRoot(): Plugin {
  const redirect = (req: { url?: string }, res: { statusCode: number; setHeader(k: string, v: string): void; end(): void }, next: () => void): void => {
    if (req.url === '/' || req.url === '/index.html') {
      res.statusCode = 302;
      res.setHeader('Location', '/demo/');
      res.end();
      return;
    }
    next();
  };
  return {
    name: 'webgnn-demo-at-root',
    configureServer: (server) => void server.middlewares.use(redirect),
    configurePreviewServer: (server) => void server.middlewares.use(redirect),
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'index.html',
        source: '<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=demo/"><title>webgnn</title><a href="demo/">webgnn demo</a>\n',
      });
    },
  };
}

/**
 * Rooms (src/dist/room-server.ts) on the dev and preview servers' own HTTP server, at /rooms: the page connects
 * to ws(s)://<its host>/rooms. Only upgrades to that path are the rooms'; Vite's HMR socket is left alone.
 */
function roomsOnSamePort(): Plugin {
  const attach = (httpServer: unknown, log: (line: string) => void): void => {
    // No HTTP server of Vite's own in middleware mode: nothing to attach to.
    if (!httpServer) return;
    const server = httpServer as HttpServer;
    const rooms = attachRoomServer(server, { path: '/rooms', log: (line) => log(`[rooms] ${line}`) });
    // Vite destroys every open socket when it closes (members see 1006, "connection lost"); this clears the timers.
    server.once('close', () => void rooms.close());
  };
  return {
    name: 'webgnn-rooms',
    configureServer: (server) => attach(server.httpServer, (line) => server.config.logger.info(line, { timestamp: true })),
    configurePreviewServer: (server) => attach(server.httpServer, (line) => server.config.logger.info(line, { timestamp: true })),
  };
}

export default defineConfig({
  root,
  // Relative asset URLs: the built site works from any folder of a static host.
  base: './',
  publicDir: false,
  plugins: [demoAtRoot(), roomsOnSamePort()],
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  // Find every npm dependency when the server starts: one discovered later (say, imported only by the demo's
  // worker) makes Vite re-bundle and reload every open page, which a running test sees as a navigation.
  // The worker is not reachable from the pages' HTML, hence src/browser. Nothing else is scanned (reports,
  // bench output).
  optimizeDeps: { entries: [...Object.values(pages), 'src/browser/**/*.ts'] },
  // The demo's trainer is an ES module worker (it imports the runtime).
  worker: { format: 'es' },
  build: {
    outDir: 'site',
    emptyOutDir: true,
    // WebGPU browsers are all recent: no down-levelling needed.
    target: 'es2022',
    rolldownOptions: { input: Object.fromEntries(Object.entries(pages).map(([name, page]) => [name, `${root}${page}`])) },
  },
});
