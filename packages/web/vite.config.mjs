// The console's build: static files in build/, hashed under build/assets/ so the server can let
// browsers keep them for a year. No inline script or style ends up in index.html (the server's
// Content-Security-Policy refuses them), and no source maps are published.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'build',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
});
