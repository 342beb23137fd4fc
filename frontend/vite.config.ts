/// <reference types="vitest/config" />
import { defineConfig, loadEnv } from "vite";
import react from "@vitejs/plugin-react";

// The local API server (`voiceforge serve`) listens on :3000; override with VOICEFORGE_API_URL.
const apiTarget = process.env.VOICEFORGE_API_URL ?? "http://localhost:3000";

// A production build signs in with Clerk. Without a publishable key the app would fall back to
// dev sign-in, whose endpoint only `voiceforge serve` has: refuse that unless it is asked for.
function requireClerkKeyInProduction(command: string, mode: string) {
  if (command !== "build" || mode !== "production") return;
  const env = { ...loadEnv(mode, process.cwd(), "VITE_"), ...process.env };
  if (env.VITE_CLERK_PUBLISHABLE_KEY?.trim() || env.VITE_DEV_SIGN_IN === "true") return;
  throw new Error(
    "VITE_CLERK_PUBLISHABLE_KEY is not set: a production build would ship dev sign-in, which deployed " +
      "functions do not serve. Set VITE_CLERK_PUBLISHABLE_KEY (Clerk dashboard, API keys; on Vercel a " +
      "project environment variable), or VITE_DEV_SIGN_IN=true for a build served by `voiceforge serve`.",
  );
}

export default defineConfig(({ command, mode }) => {
  requireClerkKeyInProduction(command, mode);
  return {
    plugins: [react()],
    server: {
      port: 5173,
      proxy: {
        "/api": { target: apiTarget, changeOrigin: true },
      },
    },
    preview: {
      proxy: {
        "/api": { target: apiTarget, changeOrigin: true },
      },
    },
    build: {
      outDir: "dist",
    },
    test: {
      environment: "happy-dom",
      setupFiles: ["./src/test/setup.ts"],
      include: ["src/**/*.test.{ts,tsx}"],
      restoreMocks: true,
    },
  };
});
