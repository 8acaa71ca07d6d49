// An agent whose data_dir is a small file system of its own (tmpfs), for the tests of what
// it does when its disk fills up. Tests run as root (CI too), so they can mount one.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Agent, TestCluster } from "./cluster.ts";
import { run } from "./process.ts";

export interface SmallDiskAgent {
  agent: Agent;
  mountPoint: string;
  /** Stops the agent and unmounts its file system. */
  release(): Promise<void>;
}

/** Mounts a tmpfs of `size` (e.g. "8m") where the cluster's next agent keeps its data, and starts that agent. */
export async function addAgentOnSmallDisk(c: TestCluster, size: string, extra = ""): Promise<SmallDiskAgent> {
  const mountPoint = join(c.dir, `agent${c.agents.length + 1}`); // addAgent's data_dir for the next agent
  mkdirSync(mountPoint, { recursive: true });
  const m = await run(["mount", "-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", mountPoint]);
  if (m.code !== 0) throw new Error(`mount tmpfs on ${mountPoint}: ${m.stderr}`);
  const agent = await c.addAgent(extra);
  if (agent.dir !== mountPoint) throw new Error(`the agent keeps its data in ${agent.dir}, not on the small disk ${mountPoint}`);
  return {
    agent, mountPoint,
    async release() {
      await agent.stop("SIGKILL");
      await run(["umount", "-l", mountPoint]);
    },
  };
}
