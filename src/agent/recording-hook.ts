// Connects session channels to the recorder: who is recorded follows the user's roles
// and cluster_config (core/access-policy.ts shouldRecord), and a recorded session that
// cannot be recorded any more is closed with the reason.
import type { RecordingNotice } from "../core/config.ts";
import type { AgentRecorder } from "./recording/agent-recorder.ts";
import { RECORDING_NOTICE } from "./recording/agent-recorder.ts";
import type { AccessSubject } from "./access-guard.ts";
import type { ClusterView } from "./cluster-view.ts";
import type { SessionChannel, SessionOwner } from "./session-channel.ts";
import type { SshConnection } from "./ssh-connection.ts";

type RecordAnswer = ReturnType<NonNullable<SessionOwner["record"]>>;

/** Exec sessions feed scripts (scp, rsync, git) that read stderr: by default only a PTY is told. */
function showsNotice(mode: RecordingNotice, s: SessionChannel): boolean {
  return mode === "always" || (mode === "interactive" && s.hasPty);
}

/** `refused` audits a session closed because it cannot be recorded (low disk, a failed recorder). */
export function recordingHook(recorder: AgentRecorder, view: ClusterView, notice: RecordingNotice, refused: (c: SshConnection, reason: string) => void = () => {}) {
  return (c: SshConnection, s: SessionChannel, subject: AccessSubject): RecordAnswer => {
    const pty = s.pty;
    const decision = recorder.begin(
      { sid: s.id, user: subject.user, login: subject.login, kind: s.kind, command: s.command, term: pty?.term, cols: pty?.cols, rows: pty?.rows },
      subject.roles, view.clusterConfig, (message) => s.terminate(message),
    );
    if (decision.refusal) {
      refused(c, decision.refusal);
      return { refusal: decision.refusal };
    }
    if (!decision.recording) return {};
    return { tap: decision.recording, notice: showsNotice(notice, s) ? RECORDING_NOTICE : undefined };
  };
}
