// The dashboard build: one small bundle for the local stack and CloudFront alike. `npm run web:dev` serves it with
// hot reload and proxies the API and the live feed to a running local stack (VPP_API, default http://127.0.0.1:3000).
import { defineConfig } from 'vite';

const api = process.env.VPP_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: import.meta.dirname,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false },
  server: {
    proxy: {
      '/api': api,
      '/dispatch': api,
      '/config.json': api,
      '/mqtt': { target: api.replace(/^http/, 'ws'), ws: true },
    },
  },
});
