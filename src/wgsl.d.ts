// Shaders are imported as text (`?raw`): Vite does this natively, Node through scripts/wgsl-hooks.mjs.
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
