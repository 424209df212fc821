// Builds the app into Glassbox.Server's wwwroot, which the .NET build embeds in the assembly.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/Glassbox.Server/wwwroot",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
  },
  server: { proxy: { "/api": "http://127.0.0.1:5432" } },
});
