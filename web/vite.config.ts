// Builds the app into the Python package so `pip install` needs no Node; relative asset
// URLs let the server mount it anywhere. File names carry no hashes-of-time: the build is
// deterministic, so CI can rebuild and diff.
import { defineConfig } from "vitest/config";

export default defineConfig({
  base: "./",
  build: {
    outDir: "../deepviz/server/static",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1000,
  },
  server: {
    // `npm run dev` proxies the API to a running `deepviz serve PROJECT --port 8765`.
    proxy: { "/api": "http://127.0.0.1:8765" },
  },
  test: {
    include: ["tests/**/*.test.ts"],
  },
});
