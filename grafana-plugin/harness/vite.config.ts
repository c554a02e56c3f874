import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The standalone harness: the same panel component outside Grafana, fed from a live Prometheus
// (?prom=http://127.0.0.1:9090) or from generated frames (?bench=<tills>). esbuild compiles the TSX
// (no React plugin needed). @grafana/ui, @grafana/data and React, which Grafana supplies at run time, are
// bundled here from the same npm packages the panel is built against.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
