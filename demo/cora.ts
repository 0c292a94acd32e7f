// The embedded Cora, bundled as static assets: Vite copies data/cora into the built site and these
// imports are their URLs, fetched by the worker through the same loader the CLI uses.

import edges from '../data/cora/edges.csv?url';
import features from '../data/cora/features.csv?url';
import labels from '../data/cora/labels.csv?url';
import meta from '../data/cora/meta.json?url';

/** File name → absolute URL (the worker resolves nothing against the page). */
export function coraUrls(): Record<string, string> {
  const absolute = (url: string) => new URL(url, location.href).href;
  return {
    'meta.json': absolute(meta),
    'edges.csv': absolute(edges),
    'features.csv': absolute(features),
    'labels.csv': absolute(labels),
  };
}
