/** The dashboard's build: `npm run web:build` writes web/dist, which the gateway serves at `/`. */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1_000 },
  // The curve mirror and the typed ABIs come from ../src.
  server: { fs: { allow: ['..'] } },
});
