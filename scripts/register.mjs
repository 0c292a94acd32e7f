// Lets Node run the TypeScript sources directly and import WGSL the way Vite does (`./x.wgsl?raw`),
// so one import statement loads a shader in both environments.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./wgsl-hooks.mjs', import.meta.url);
