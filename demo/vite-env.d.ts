// Vite's module types for the demo: `?url` assets, CSS imports, `new Worker(new URL(…))`.
/// <reference types="vite/client" />
