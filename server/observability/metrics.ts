import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
} from "prom-client";
import type { ErrorCode } from "../../protocol/index.ts";
import { TRANSPORTS, type IngestObserver, type Transport } from "../services/positions.ts";
import type { CommitObserver } from "../stores/ports.ts";
import type { HealthChecks } from "./health.ts";

/** Open connections by kind, counted by the transports when Prometheus scrapes. */
export interface ConnectionCounts {
  devices: Record<"socketio" | "ws", number>;
  /** socket.io `/live` dashboards. */
  dashboards: number;
  /** Plain WebSocket viewers on `/ws`. */
  wsViewers: number;
}

/**
 * Process metrics (CPU, memory, GC, event-loop lag as `nodejs_eventloop_lag_*`) belong to the
 * process, not to one server: collected once into a registry of their own, under their usual
 * names (the ones ready-made Node.js dashboards read), and appended to every server's scrape.
 * Several servers in one process (the tests) then share one event-loop monitor and one GC
 * observer instead of each adding its own that nothing can ever stop.
 */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const ROWS_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000];

/** The children of one transport, looked up once: `labels()` hashes its values on every call. */
interface TransportSeries {
  accepted: Counter.Internal;
  duplicate: Counter.Internal;
  ack: Histogram.Internal<string>;
  rejected: Map<string, Counter.Internal>;
}

/**
 * The Prometheus metrics of one running server, in a registry of its own (tests run several
 * servers in one process). Made by the composition root and handed, as observers, to the
 * positions service (ingest counts, ack latency) and the store (commit sizes and times); gauges
 * are read from their sources when scraped, so nothing on the ingest path keeps them up to date.
 */
export class LocusMetrics {
  readonly registry = new Registry();
  /** The store's observer: sizes and times of group commits. */
  readonly commits: CommitObserver;
  private readonly series: Record<Transport, TransportSeries>;
  private readonly rejected: Counter<"transport" | "reason">;
  private connections: () => ConnectionCounts = () => ({
    devices: { socketio: 0, ws: 0 },
    dashboards: 0,
    wsViewers: 0,
  });

  constructor(health: HealthChecks) {
    const registers = [this.registry];
    const counter = <L extends string>(config: CounterConfiguration<L>) =>
      new Counter({ ...config, registers });
    const accepted = counter({
      name: "locus_positions_accepted_total",
      help: "Positions stored, by the transport they came through",
      labelNames: ["transport"],
    });
    const duplicate = counter({
      name: "locus_positions_duplicate_total",
      help: "Positions already stored (same device and ts), acknowledged but not stored again",
      labelNames: ["transport"],
    });
    this.rejected = counter({
      name: "locus_positions_rejected_total",
      help: "Positions refused, by transport and reason (the error code; invalid_payload for one bad position)",
      labelNames: ["transport", "reason"],
    });
    const ack = new Histogram({
      name: "locus_ack_latency_seconds",
      help: "From a report's arrival to its acknowledgement (after its commit), by transport",
      labelNames: ["transport"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    // Every transport's series exists from the start at 0, so rate() sees its first increase.
    this.series = Object.fromEntries(
      TRANSPORTS.map((transport) => {
        const series = {
          accepted: accepted.labels(transport),
          duplicate: duplicate.labels(transport),
          ack: ack.labels(transport),
          rejected: new Map(),
        };
        series.accepted.inc(0);
        series.duplicate.inc(0);
        ack.zero({ transport });
        return [transport, series];
      }),
    ) as Record<Transport, TransportSeries>;

    const commitRows = new Histogram({
      name: "locus_commit_rows",
      help: "Rows per group commit (one transaction)",
      buckets: ROWS_BUCKETS,
      registers,
    });
    const commitSeconds = new Histogram({
      name: "locus_commit_duration_seconds",
      help: "Time a group commit took, from the main thread (the storage worker's round trip included)",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const commitFailures = counter({
      name: "locus_commit_failures_total",
      help: "Group commits that failed (their reports were answered internal)",
    });
    this.commits = {
      committed(rows, ms) {
        commitRows.observe(rows);
        commitSeconds.observe(ms / 1000);
      },
      failed() {
        commitFailures.inc();
      },
    };

    const read = () => this.connections();
    new Gauge({
      name: "locus_connected_devices",
      help: "Devices connected now, by transport (the HTTP phone apps hold no connection)",
      labelNames: ["transport"],
      registers,
      collect() {
        const { devices } = read();
        this.set({ transport: "socketio" }, devices.socketio);
        this.set({ transport: "ws" }, devices.ws);
      },
    });
    new Gauge({
      name: "locus_connected_dashboards",
      help: "socket.io dashboards (/live) connected now",
      registers,
      collect() {
        this.set(read().dashboards);
      },
    });
    new Gauge({
      name: "locus_connected_ws_viewers",
      help: "Plain WebSocket viewers (/ws) connected now",
      registers,
      collect() {
        this.set(read().wsViewers);
      },
    });
    new Gauge({
      name: "locus_health_ok",
      help: "1 when the named health check passes, else 0 (store: positions can be committed)",
      labelNames: ["check"],
      registers,
      collect() {
        // Reset first: a check that was unregistered must not linger at its last value.
        this.reset();
        for (const [check, { ok }] of Object.entries(health.run().checks)) {
          this.set({ check }, ok ? 1 : 0);
        }
      },
    });
  }

  /** The positions service's observer. Per report: a few increments, no label hashing. */
  readonly ingest: IngestObserver = {
    counted: (via, accepted, duplicates) => {
      const series = this.series[via];
      if (accepted > 0) series.accepted.inc(accepted);
      if (duplicates > 0) series.duplicate.inc(duplicates);
    },
    rejected: (via, reason: ErrorCode, count) => {
      if (count <= 0) return;
      const byReason = this.series[via].rejected;
      let child = byReason.get(reason);
      if (!child) byReason.set(reason, (child = this.rejected.labels(via, reason)));
      child.inc(count);
    },
    acked: (via, ms) => this.series[via].ack.observe(ms / 1000),
  };

  /** Where the connection gauges read from (the app, once its transports are attached). */
  countConnections(source: () => ConnectionCounts): void {
    this.connections = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text Prometheus scrapes: this server's metrics, then the process's. */
  async scrape(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return own + process;
  }
}
