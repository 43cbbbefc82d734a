import type { ClientConfigReply } from "../../../../protocol/index.ts";
import { fetchConfig, FALLBACK_CONFIG } from "../api.ts";

/** Server-provided settings; the OpenStreetMap defaults stand in if /api/config cannot be read. */
class AppConfig {
  value = $state.raw<ClientConfigReply>(FALLBACK_CONFIG);
  source = $state<"pending" | "server" | "fallback">("pending");
  readonly ready: Promise<ClientConfigReply>;

  constructor() {
    this.ready = fetchConfig().then(
      (config) => {
        this.value = config;
        this.source = "server";
        return config;
      },
      (error: unknown) => {
        console.warn("Locus: /api/config unavailable, using defaults", error);
        this.source = "fallback";
        return FALLBACK_CONFIG;
      },
    );
  }
}

export const appConfig = new AppConfig();
