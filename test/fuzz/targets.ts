// One fuzz target per parser that takes bytes from outside: certificate and key blobs,
// private key files, SSH wire reads, request tokens, TOML resources and configs,
// recording parts and event lines, API JSON bodies. Each names its typed refusals.
import { parseJson } from "../../src/auth/api.ts";
import { asBody, bool, clipped, duration, labels, str } from "../../src/auth/body-fields.ts";
import { HttpError } from "../../src/auth/http-error.ts";
import { checkEvent } from "../../src/auth/routes/event-routes.ts";
import { parseAgentConfig, parseAuthConfig, parseConfigText } from "../../src/core/config.ts";
import { nodeEventRefusal } from "../../src/core/node-events.ts";
import { decodeOpenSshPrivateKey } from "../../src/core/openssh-private-key.ts";
import { decodeToken, TokenError } from "../../src/core/request-token.ts";
import { parseResource, parseResourceText, toExternal } from "../../src/core/resources.ts";
import { KeyFormatError, parseAuthorizedKeyLine, parsePublicKeyBlob, verifySshSignature } from "../../src/core/ssh-key.ts";
import { CertificateError, checkCertificate, checkCertSourceAddress, parseCertificate } from "../../src/core/sshcert.ts";
import { WireError, WireReader } from "../../src/core/ssh-wire.ts";
import { ValidationError } from "../../src/core/validation-error.ts";
import { walkEvents } from "../../src/recording/format/event-stream.ts";
import { checkPart, gzipMember, salvageLines } from "../../src/recording/format/part-codec.ts";
import { EventFormatError, parseEventLine } from "../../src/recording/format/recording-event.ts";
import { readRecording } from "../../src/recording/format/recording-reader.ts";
import type { Target } from "./engine.ts";
import * as K from "./seed-keys.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (s: string) => enc.encode(s);
const blobOf = (line: string) => Buffer.from(line.split(" ")[1]!, "base64");
const is = (...types: (abstract new (...a: never[]) => Error)[]) => (e: unknown) => types.some((t) => e instanceof t);
const NOW = new Date("2026-06-01T00:00:00Z");

const CERTS = [K.CERT_RESTRICTED, K.CERT_UNKNOWN_OPTION, K.CERT_HOST_RSA];
const KEYS = [K.ED25519_PUB, K.ECDSA256_PUB, K.ECDSA384_PUB, K.RSA_PUB, K.CA_PUB];

const certificate: Target = {
  name: "ssh-certificate",
  seeds: CERTS.map(blobOf),
  run(b) {
    const cert = parseCertificate(b);
    // Checking must not throw either: every outcome is a verdict.
    checkCertificate(cert, { caKeys: [blobOf(K.CA_PUB)], certType: "user", now: NOW, principal: "root", clientAddress: "127.0.0.1" });
    checkCertSourceAddress(cert, "::ffff:10.1.2.3");
  },
  expected: is(CertificateError),
};

const publicKey: Target = {
  name: "ssh-public-key",
  seeds: [...KEYS.map(blobOf), ...KEYS.map(text)],
  dictionary: ["ssh-ed25519 ", "ssh-rsa ", "ecdsa-sha2-nistp256 ", "AAAA", "=", " ", "\n", "#"],
  run(b) {
    // The same bytes as a key blob, as an authorized_keys line, and as a signature over them.
    try {
      const k = parsePublicKeyBlob(b);
      verifySshSignature(k.blob, b, b);
    } catch (e) {
      if (!(e instanceof KeyFormatError)) throw e;
    }
    for (const key of [K.ED25519_PUB, K.ECDSA256_PUB]) verifySshSignature(blobOf(key), text("data"), b);
    parseAuthorizedKeyLine(dec.decode(b));
  },
  expected: is(KeyFormatError),
};

const privateKey: Target = {
  name: "openssh-private-key",
  // The armoured text, and (so mutations reach the binary parser) the inner bytes re-armoured in run.
  seeds: [text(K.ED25519_PRIVATE), privateInner(K.ED25519_PRIVATE)],
  run(b) {
    const s = dec.decode(b);
    decodeOpenSshPrivateKey(s.startsWith("-----BEGIN") ? s : armour(b));
  },
  expected: is(KeyFormatError),
};

const wire: Target = {
  name: "ssh-wire",
  seeds: CERTS.map(blobOf).concat(KEYS.map(blobOf)),
  run(b) {
    // The first byte picks a sequence of reads over the rest, as the protocol parsers do.
    const r = new WireReader(b.subarray(1));
    let plan = b[0] ?? 0;
    for (let i = 0; i < 64 && !r.done; i++) {
      switch ((plan + i) % 6) {
        case 0: r.u8(); break;
        case 1: r.u32(); break;
        case 2: r.u64(); break;
        case 3: r.bytes(); break;
        case 4: r.text(); break;
        default: r.mpint();
      }
      plan = (plan * 31 + 7) & 0xff;
    }
    r.rest();
  },
  expected: is(WireError),
};

const TOKEN_PAYLOAD = { v: 1, sub: { cert: blobOf(K.CERT_RESTRICTED).toString("base64") }, iat: 1780000000000, nonce: "0123456789abcdef0123456789abcdef", m: "GET", p: "/v1/events?limit=1", bh: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" };
const token: Target = {
  name: "request-token",
  seeds: [text(`HW1 ${Buffer.from(JSON.stringify(TOKEN_PAYLOAD)).toString("base64url")}.${Buffer.alloc(64, 7).toString("base64url")}`), text(JSON.stringify(TOKEN_PAYLOAD))],
  dictionary: ["HW1 ", ".", '"', "{", "}", "null", "1e999", '"sub":{"node":"x"}', '"nonce":"', "-1"],
  run(b) {
    const s = dec.decode(b);
    // Raw JSON seeds are wrapped so mutations of the payload reach its checks.
    decodeToken(s.startsWith("{") ? `HW1 ${Buffer.from(b).toString("base64url")}.AAAA` : s);
  },
  expected: is(TokenError),
};

const RESOURCES = [
  `kind = "role"\nname = "ops"\n[options]\nmax_connections = 3\nmax_sessions = 2\nmax_session_ttl = "8h"\nlock = "strict"\nrecord_session = { ssh = false }\n[allow]\nlogins = ["root", "ubuntu"]\nnode_labels = { env = ["prod", "*"] }\n[[allow.rules]]\nresources = ["lock", "session"]\nverbs = ["list", "read"]\n[deny]\nlogins = ["admin"]\n[[deny.rules]]\nresources = ["token"]\nverbs = ["create"]\n`,
  `kind = "user"\nname = "alice"\nroles = ["ops", "access"]\n`,
  `kind = "lock"\nname = "3f2a6b1e-0d6c-4a57-9d3b-0b7c9f2d1e11"\nmessage = "Suspicious activity."\nexpires = "2030-01-01T00:00:00Z"\n[target]\nuser = "alice"\nlogin = "root"\nserver_id = "3f2a6b1e-0d6c-4a57-9d3b-0b7c9f2d1e12"\n`,
  `kind = "cluster_config"\nname = "cluster_config"\nlocking_mode = "best_effort"\nsession_recording = "node-sync"\nsession_control_timeout = "2m"\n`,
  `[[resource]]\nkind = "user"\nname = "bob"\nroles = ["access"]\n[[resource]]\nkind = "role"\nname = "empty"\n`,
];
const TOML_WORDS = ["[", "]", "[[", "]]", "=", '"', "'''", '"""', "\n", "#", ",", "{", "}", "1979-05-27T07:32:00Z", "inf", "nan", "0x7f", "1e999", "true", "-", "\\u0000", "kind = ", "name = "];
const resources: Target = {
  name: "toml-resources",
  seeds: RESOURCES.map(text),
  dictionary: TOML_WORDS,
  run(b) {
    for (const r of parseResourceText(dec.decode(b), "fuzz.toml", { now: NOW, newName: () => "00000000-0000-4000-8000-000000000000" })) {
      // What was accepted must survive the trip through its external form (the store and the feed do this).
      parseResource(toExternal(r), "roundtrip", { now: new Date(0) });
    }
  },
  expected: is(ValidationError),
};

const CONFIGS = [
  `data_dir = "/var/lib/hostward/auth"\nlisten = "0.0.0.0:3025"\ncluster_name = "main"\nlog_level = "debug"\ndiag_addr = "127.0.0.1:3100"\npublic_addr = "auth.example.com:3025"\n[recordings]\nstorage = "s3://bucket/prefix?endpoint=127.0.0.1:9000&region=us-east-1&insecure=1"\n`,
  `data_dir = "/var/lib/hostward/agent"\nauth_server = "auth.example.com:3025"\njoin_token = "abc"\nca_pin = "sha256:${"a".repeat(64)}"\nlog_level = "info"\n[ssh]\nlisten = "[::]:3022"\nlabels = { env = "prod" }\n[recording]\nmin_free = "1GiB"\nrecord_stdin = true\nsync_timeout = "30s"\n`,
];
const configs: Target = {
  name: "toml-config",
  seeds: CONFIGS.map(text),
  dictionary: TOML_WORDS,
  run(b) {
    const doc = parseConfigText(dec.decode(b), "fuzz.toml");
    try {
      parseAuthConfig(doc, "auth.toml");
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
    }
    parseAgentConfig(doc, "agent.toml");
  },
  expected: is(ValidationError),
};

const EVENT_LINES = [
  `{"event":"session.start","ms":0,"version":1,"sid":"3f2a6b1e-0d6c-4a57-9d3b-0b7c9f2d1e11","time":"2026-01-01T00:00:00Z","server_id":"n","user":"u","login":"root","kind":"shell","mode":"node","term":"xterm","cols":100,"rows":30}`,
  `{"event":"print","ms":12,"data":"hello \\u001b[1mworld\\u001b[0m\\r\\n"}`,
  `{"event":"print","ms":13,"b64":"AAECAwQFBgcICQ=="}`,
  `{"event":"stdin","ms":14,"data":"ls\\r"}`,
  `{"event":"resize","ms":20,"cols":120,"rows":40}`,
  `{"event":"exec","ms":0,"command":"uname -a"}`,
  `{"event":"session.end","ms":99,"time":"2026-01-01T00:00:01Z","exit_code":0,"interrupted":true,"reason":"lock"}`,
];
const JSON_WORDS = ['"', "{", "}", "[", "]", ":", ",", "null", "true", "1e999", "-0", "\\u0000", "\\ud800", '"ms":', '"event":', '"b64":"', '"data":"', '"n":', "\n"];
const events: Target = {
  name: "recording-event",
  seeds: EVENT_LINES.map(text),
  dictionary: JSON_WORDS,
  run: (b) => void parseEventLine(dec.decode(b)),
  expected: is(EventFormatError),
};

const NDJSON = EVENT_LINES.join("\n") + "\n";
/** Version 2: frames (a head line, N raw bytes, a newline) among the JSON lines. */
const FRAMED = Buffer.concat([
  text(EVENT_LINES[0]!.replace('"version":1', '"version":2') + "\n"),
  text('{"event":"print","ms":12,"n":5}\n'), Uint8Array.of(0, 0x0a, 0xff, 0x22, 0x7b), text("\n"),
  text(EVENT_LINES[3]! + "\n"),
  text('{"event":"stdin","ms":15,"n":0}\n\n'),
  text('{"event":"print","ms":16,"n":3}\n{"e\n'),
  text(EVENT_LINES[6]! + "\n"),
]);
const eventStream: Target = {
  name: "recording-event-stream",
  seeds: [FRAMED, text(NDJSON)],
  dictionary: JSON_WORDS,
  run(b) {
    // Walking inflated events answers with what is wrong; it never throws, and never reads past the bytes.
    const w = walkEvents(b, { attach: true });
    if (w.end > b.length) throw new Error(`walked ${w.end} of ${b.length} bytes`);
  },
  expected: () => false,
};
const parts: Target = {
  name: "recording-part",
  seeds: [gzipMember(NDJSON), Buffer.concat([gzipMember(EVENT_LINES.slice(0, 3).join("\n") + "\n"), gzipMember(EVENT_LINES.slice(3).join("\n") + "\n")]), text(NDJSON), gzipMember(FRAMED), FRAMED],
  dictionary: JSON_WORDS,
  run(b) {
    // Raw NDJSON seeds are compressed here, so mutations of the lines reach the line checks.
    const part = b[0] === 0x1f ? b : gzipMember(b);
    checkPart(part);
    salvageLines(part);
    readRecording(part);
  },
  // Checking a part, salvaging it or reading a recording answers; it never throws.
  expected: () => false,
};

const BODIES = [
  { kind: "role", name: "ops", allow: { logins: ["root"], rules: [{ resources: ["lock"], verbs: ["list"] }] } },
  { kind: "user", name: "alice", roles: ["access"] },
  { kind: "lock", target: { user: "alice" }, message: "x", ttl: "1h" },
  { token: "t", server_id: "3f2a6b1e-0d6c-4a57-9d3b-0b7c9f2d1e11", hostname: "h", addr: "127.0.0.1:3022", labels: { env: "prod" }, identity_key: K.ED25519_PUB, host_key: K.ED25519_PUB, version: "1" },
  { events: [{ uid: "u1", event: "session.start", code: "T2000I", time: "2026-01-01T00:00:00Z", sid: "s", user: "u" }, { uid: "u2", event: "lock.deleted", code: "X", time: "2026-01-01T00:00:00Z" }] },
  { user: "u", login: "root", kind: "exec", mode: "node", started: "2026-01-01T00:00:00Z", command: "x".repeat(5000) },
  { ttl: "30m", reusable: true, parts: 3, interrupted: false, public_key: K.ED25519_PUB },
];
const apiBodies: Target = {
  name: "api-json-body",
  seeds: BODIES.map((o) => text(JSON.stringify(o))),
  dictionary: JSON_WORDS,
  run(b) {
    const body = asBody(parseJson(b));
    // Every field reader the routes use, on whatever the body holds.
    for (const key of Object.keys(body).concat(["missing"])) {
      for (const read of [() => str(body, key), () => str(body, key, { optional: true, max: 64 }), () => bool(body, key), () => duration(body, key, "1h"), () => labels(body, key), () => clipped(body, key, 16, true)]) {
        try {
          read();
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
        }
      }
    }
    if (Array.isArray(body.events)) {
      body.events.forEach((e, i) => {
        const ev = checkEvent(e, i);
        nodeEventRefusal(ev, "node-a", typeof ev.sid === "string" ? "node-b" : undefined);
      });
    }
    if (typeof body.kind === "string") parseResource(body, "request", { now: NOW, newName: () => "00000000-0000-4000-8000-000000000000" });
  },
  expected: is(HttpError, ValidationError),
};

export const TARGETS: Target[] = [certificate, publicKey, privateKey, wire, token, resources, configs, events, eventStream, parts, apiBodies];

function privateInner(pem: string): Uint8Array {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
}

function armour(b: Uint8Array): string {
  const lines = Buffer.from(b).toString("base64").match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
