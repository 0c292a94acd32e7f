// The far side of `webgnn profile`'s threads link: a worker_thread that answers the main thread's link
// measurement (measure-profile.ts's answerLink) over a ThreadTransport, then closes it and ends by itself.
// It opens no device.

import { workerData } from 'node:worker_threads';
import { ThreadTransport, type ThreadLinks } from '../dist/thread-transport.ts';
import { answerLink } from '../plan/measure-profile.ts';

const { links } = workerData as { links: ThreadLinks };
const transport = new ThreadTransport(links);
try {
  await answerLink(transport, 0);
} finally {
  await transport.close();
}
