#!/usr/bin/python3
# paramiko against an agent, as Ansible's paramiko connection or Fabric would use it:
# a user key with its certificate, host trust from a known_hosts file (no prompt).
# usage: paramiko-client.py HOST PORT LOGIN KEY CERT KNOWN_HOSTS exec CMD | shell INPUT
# Prints the output on stdout, "cipher=… kex=… mac=…" on stderr, exits with the remote status.
import sys
import time
import paramiko

host, port, login, key_file, cert_file, known_hosts, mode, arg = sys.argv[1:9]
key = paramiko.Ed25519Key.from_private_key_file(key_file)
key.load_certificate(cert_file)
client = paramiko.SSHClient()
client.load_host_keys(known_hosts)
client.set_missing_host_key_policy(paramiko.RejectPolicy())
client.connect(host, port=int(port), username=login, pkey=key, look_for_keys=False, allow_agent=False, timeout=20)
t = client.get_transport()
print(f"cipher={t.remote_cipher} kex={t.kex_engine.__class__.__name__} mac={t.remote_mac} hostkey={t.host_key_type}", file=sys.stderr)

if mode == "exec":
    _, out, err = client.exec_command(arg, timeout=30)
    sys.stdout.write(out.read().decode())
    sys.stderr.write(err.read().decode())
    status = out.channel.recv_exit_status()
else:
    chan = client.invoke_shell(term="xterm", width=80, height=24)
    chan.settimeout(30)
    chan.sendall(arg.encode())
    buf = b""
    deadline = time.monotonic() + 30
    while not chan.exit_status_ready() or chan.recv_ready():
        if time.monotonic() > deadline:
            raise TimeoutError("shell did not exit")
        data = chan.recv(65536)
        if not data:
            break
        buf += data
    sys.stdout.write(buf.decode(errors="replace"))
    status = chan.recv_exit_status()
client.close()
sys.exit(status)
