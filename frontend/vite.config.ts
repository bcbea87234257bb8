import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The built UI is embedded in the Go binary (frontend/embed.go) and served by
// every host at "/", and loaded by the desktop webview: relative asset paths
// work for both.
export default defineConfig({
  base: './',
  plugins: [svelte()],
  // `npx vite` for UI work: /api, /files and /ws go to a running host, which must
  // accept this page's origin (lanchat serve --allow-origin http://localhost:5173).
  server: {
    proxy: {
      '/api': process.env.LANCHAT_HOST ?? 'http://127.0.0.1:47800',
      '/files': process.env.LANCHAT_HOST ?? 'http://127.0.0.1:47800',
      '/ws': { target: (process.env.LANCHAT_HOST ?? 'http://127.0.0.1:47800').replace(/^http/, 'ws'), ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
