/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The dev server forwards API calls to a running `argus serve` (ARGUS_URL, default
// http://127.0.0.1:8080), so `npm run dev` works against the real back end.
const backend = process.env.ARGUS_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    // Hashed names (Vite's default) let argus cache /assets/* for a year.
    sourcemap: false,
    target: 'es2020',
    cssCodeSplit: true,
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/metrics': { target: backend, changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    restoreMocks: true,
    reporters: ['default', './src/test/summary-reporter.ts'],
  },
});
