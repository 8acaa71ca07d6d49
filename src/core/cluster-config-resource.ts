// The cluster_config resource: validation of its external form and conversion back to it.
// Every key is optional and falls back to DEFAULT_CLUSTER_CONFIG.

import { formatDuration } from "./duration.ts";
import { readName } from "./resource-name.ts";
import { DEFAULT_CLUSTER_CONFIG, LOCKING_MODES, RECORDING_MODES, type ClusterConfig } from "./resource-types.ts";
import type { TableReader } from "./table-reader.ts";

export function parseClusterConfig(r: TableReader): ClusterConfig {
  readName(r, "cluster_config", () => "cluster_config");
  const d = DEFAULT_CLUSTER_CONFIG;
  return {
    kind: "cluster_config",
    name: "cluster_config",
    sessionRecording: r.oneOf("session_recording", RECORDING_MODES) ?? d.sessionRecording,
    lockingMode: r.oneOf("locking_mode", LOCKING_MODES) ?? d.lockingMode,
    sessionControlTimeout: r.duration("session_control_timeout") ?? d.sessionControlTimeout,
    lockMaxStaleness: r.duration("lock_max_staleness") ?? d.lockMaxStaleness,
  };
}

export function clusterConfigToExternal(c: ClusterConfig): Record<string, unknown> {
  return {
    kind: "cluster_config",
    name: "cluster_config",
    session_recording: c.sessionRecording,
    locking_mode: c.lockingMode,
    session_control_timeout: formatDuration(c.sessionControlTimeout),
    lock_max_staleness: formatDuration(c.lockMaxStaleness),
  };
}
