// The embedded CollegeMsg event stream, bundled as static assets: Vite copies data/collegemsg into the
// built site and these imports are their URLs, fetched by the worker through the loader the CLI uses
// (loadEventStream).

import events from '../data/collegemsg/events.csv?url';
import meta from '../data/collegemsg/meta.json?url';

/** File name → absolute URL (the worker resolves nothing against the page). */
export function collegeMsgUrls(): Record<string, string> {
  const absolute = (url: string) => new URL(url, location.href).href;
  return {
    'meta.json': absolute(meta),
    'events.csv': absolute(events),
  };
}
